"""The presigned POST policy covers exactly what anaconda-client sends (s3-post-upload.md §6.1).

moto accepts any policy, so this pure check stands in for MinIO's checkPostPolicy and AWS's
"every form field must appear in the conditions" rule -- and is stricter than MinIO because,
like AWS, it also requires every condition's field to be present. No network: the store is
told the bucket exists and presigning is local computation.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio
from minio.datatypes import PostPolicy
from pkgcloud_servicekit.blobstore.minio_store import MinioBlobStore

KEY = "alice/demo/1.0/noarch/demo-1.0-0.tar.bz2"
MAX = 1024**3
EXEMPT = {"policy", "x-amz-signature", "file"}


class PolicyViolation(AssertionError):
    pass


def client_fields(form_data: list[tuple[str, str]], data: bytes) -> dict[str, str]:
    """anaconda-client's field set: dict(form_data), then two dict assignments (§0)."""
    fields = dict(form_data)
    fields["Content-Length"] = str(len(data))
    fields["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
    return fields


def check_post(form_data: list[tuple[str, str]], data: bytes, now: datetime) -> None:
    """Raise PolicyViolation unless MinIO >= 2023-09 and AWS S3 would accept the POST."""
    fields = client_fields(form_data, data)
    if "policy" not in fields:
        raise PolicyViolation("no policy field")
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = []
    length_range = None
    for cond in policy["conditions"]:
        if isinstance(cond, dict):  # {"field": "value"} is shorthand for eq
            for name, value in cond.items():
                conditions.append(("eq", name.lstrip("$").lower(), value))
        elif cond[0] == "content-length-range":
            length_range = (cond[1], cond[2])
        else:
            op, name, value = cond
            conditions.append((op.lower(), name.lstrip("$").lower(), value))

    # (c) no field twice, ignoring case (MinIO canonicalises names)
    lowered = [name.lower() for name in fields]
    dupes = {n for n in lowered if lowered.count(n) > 1}
    if dupes:
        raise PolicyViolation(f"duplicate field: {sorted(dupes)}")
    values = {name.lower(): value for name, value in fields.items()}

    # (a) every field is covered by a condition
    covered = {name for _, name, _ in conditions}
    for name in values:
        if name in EXEMPT or name.startswith("x-ignore-"):
            continue
        if name not in covered:
            raise PolicyViolation(f"extra input field: {name}")

    # (b) every condition (but bucket, which the server adds) names a present, matching field
    for op, name, expected in conditions:
        if name == "bucket":
            continue
        if name not in values:
            raise PolicyViolation(f"condition on absent field: {name}")
        if op == "eq" and values[name] != expected:
            raise PolicyViolation(f"{name}={values[name]!r} is not {expected!r}")
        if op == "starts-with" and not values[name].startswith(expected):
            raise PolicyViolation(f"{name}={values[name]!r} does not start with {expected!r}")

    # (d) 201 so the client gets the XML body it parses
    if values.get("success_action_status") != "201" or ("eq", "success_action_status", "201") not in conditions:
        raise PolicyViolation("success_action_status must be an eq '201' condition and field")

    # (e) a size limit that admits the file
    if length_range is None:
        raise PolicyViolation("no content-length-range")
    if not length_range[0] <= len(data) <= length_range[1]:
        raise PolicyViolation(f"size {len(data)} outside range {length_range}")

    # (f) the signed essentials, and not expired
    for name in ("key", "x-amz-algorithm", "x-amz-credential", "x-amz-date"):
        if name not in covered:
            raise PolicyViolation(f"{name} not covered")
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    if expiration <= now:
        raise PolicyViolation("policy expired")


@pytest.fixture
def store() -> MinioBlobStore:
    return MinioBlobStore(
        "minio.internal:9000", "AKIDEXAMPLE", "secret-example", "pkgs",
        public_endpoint="files.example.com", ensure_bucket=False,
    )


async def test_the_stage_form_passes_the_policy_check(store):
    post = await store.presigned_post(KEY, max_size=MAX)
    assert post.url == "http://files.example.com/pkgs"
    assert [name for name, _ in post.fields] == [
        "key", "success_action_status", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature",
    ]
    check_post(post.fields, b"conda package bytes", datetime.now(UTC))
    check_post(post.fields, b"x", datetime.now(UTC))
    check_post(post.fields, b"x" * 1000, datetime.now(UTC) + timedelta(minutes=59))


async def test_the_signed_conditions_are_exactly_the_recipe(store):
    post = await store.presigned_post(KEY, max_size=MAX)
    policy = json.loads(base64.b64decode(dict(post.fields)["policy"]))
    fields = dict(post.fields)
    assert policy["conditions"] == [
        ["eq", "$bucket", "pkgs"],
        ["eq", "$key", KEY],
        ["eq", "$success_action_status", "201"],
        ["starts-with", "$Content-Length", ""],
        ["starts-with", "$Content-MD5", ""],
        ["content-length-range", 1, MAX],
        ["eq", "$x-amz-algorithm", "AWS4-HMAC-SHA256"],
        ["eq", "$x-amz-credential", fields["x-amz-credential"]],
        ["eq", "$x-amz-date", fields["x-amz-date"]],
    ]
    # none of the fields the client adds itself, in any case
    assert not {name.lower() for name in fields} & {"content-length", "content-md5", "file", "bucket"}


async def test_the_policy_expires(store):
    post = await store.presigned_post(KEY, max_size=MAX, expires_s=60)
    with pytest.raises(PolicyViolation, match="expired"):
        check_post(post.fields, b"x", datetime.now(UTC) + timedelta(minutes=2))


async def test_an_empty_file_is_outside_the_range(store):
    post = await store.presigned_post(KEY, max_size=MAX)
    with pytest.raises(PolicyViolation, match="outside range"):
        check_post(post.fields, b"", datetime.now(UTC))
    small = await store.presigned_post(KEY, max_size=10)
    with pytest.raises(PolicyViolation, match="outside range"):
        check_post(small.fields, b"x" * 11, datetime.now(UTC))


def _form(drop: str | None = None) -> list[tuple[str, str]]:
    """A form built by hand, minus one condition: what a naive implementation produces."""
    client = Minio("minio.internal:9000", access_key="AK", secret_key="SK", secure=False, region="us-east-1")
    p = PostPolicy("pkgs", datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1))
    p.add_equals_condition("key", KEY)
    if drop != "success_action_status":
        p.add_equals_condition("success_action_status", "201")
    if drop != "Content-Length":
        p.add_starts_with_condition("Content-Length", "")
    if drop != "Content-MD5":
        p.add_starts_with_condition("Content-MD5", "")
    p.add_content_length_range_condition(1, MAX)
    return [("key", KEY), ("success_action_status", "201"), *client.presigned_post_policy(p).items()]


@pytest.mark.parametrize("drop", ["Content-MD5", "Content-Length", "success_action_status"])
def test_the_checker_catches_a_missing_condition(drop):
    check_post(_form(), b"x", datetime.now(UTC))  # the full recipe passes
    with pytest.raises(PolicyViolation, match=f"extra input field: {drop.lower()}"):
        check_post(_form(drop), b"x", datetime.now(UTC))


def test_the_checker_catches_a_duplicate_field():
    with pytest.raises(PolicyViolation, match="duplicate field"):
        check_post([*_form(), ("content-md5", "abc")], b"x", datetime.now(UTC))
