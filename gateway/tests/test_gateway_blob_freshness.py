"""The one rule the gateway's in-memory blob caches follow (blob_freshness.Validity)."""

from pkgcloud_gateway.blob_freshness import TAG_RECHECK_S, Validity


class Tags:
    """A store whose change tags the test sets; counts how often they are looked at."""

    def __init__(self, tag):
        self.tag, self.looks = tag, 0

    def change_tag(self, key):
        self.looks += 1
        return self.tag


def test_a_rewrite_is_noticed_after_the_recheck_interval_and_not_before():
    store, v = Tags("t1"), Validity.read("t1", now=100.0)
    assert v.fresh(store, "k", 100.0 + TAG_RECHECK_S / 2, ttl_s=1, untagged_ttl_s=0.1) == (True, "t1")
    assert store.looks == 0  # within the recheck interval: no stat
    store.tag = "t2"
    assert v.fresh(store, "k", 100.0 + TAG_RECHECK_S * 2, ttl_s=1, untagged_ttl_s=0.1) == (False, "t2")


def test_an_unchanged_tag_is_read_again_after_the_ttl():
    store, v = Tags("t1"), Validity.read("t1", now=100.0)
    assert v.fresh(store, "k", 100.5, ttl_s=1, untagged_ttl_s=0.1) == (True, "t1")
    assert v.fresh(store, "k", 101.5, ttl_s=1, untagged_ttl_s=0.1) == (False, "t1")


def test_stores_without_tags_use_their_own_ttl():
    store, v = Tags(None), Validity.read(None, now=100.0)
    assert v.fresh(store, "k", 100.05, ttl_s=1, untagged_ttl_s=0.1)[0]
    assert not v.fresh(store, "k", 100.2, ttl_s=1, untagged_ttl_s=0.1)[0]


def test_a_blob_that_appears_or_disappears_is_read_again():
    missing = Validity.read(None, now=100.0)
    assert not missing.fresh(Tags("new"), "k", 100.05, ttl_s=1, untagged_ttl_s=1)[0]
    present = Validity.read("t1", now=100.0)
    assert not present.fresh(Tags(None), "k", 100.05, ttl_s=1, untagged_ttl_s=1)[0]
