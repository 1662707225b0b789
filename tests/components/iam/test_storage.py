"""The buckets' and the key's policies: TLS 1.2 or nothing, access log delivery from the lake's own buckets only, and
the key used by CloudWatch Logs only for this account's log groups."""

from components.iam.storage import data_bucket_policy, lake_key_policy, logs_bucket_policy
from tests.components.iam.documents import by_sid

BUCKET = "arn:aws:s3:::datalake-dev-raw"
LOGS = "arn:aws:s3:::datalake-dev-logs"


def test_a_data_bucket_refuses_requests_without_tls_or_with_old_tls():
    found = by_sid(data_bucket_policy(BUCKET))
    assert set(found) == {"DenyInsecureTransport", "DenyOutdatedTls"}
    for deny in found.values():
        assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", ["s3:*"])
        assert deny["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert found["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # s3:TlsVersion is a numeric condition key ("Bucket policy examples using condition keys", Amazon S3 User Guide).
    assert found["DenyOutdatedTls"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


def test_the_logs_bucket_takes_access_logs_from_the_lake_under_its_prefix_only():
    # "Enabling Amazon S3 server access logging" (Amazon S3 User Guide): with ACLs disabled, the bucket policy grants
    # the logging service principal s3:PutObject, limited by aws:SourceArn and aws:SourceAccount.
    found = by_sid(logs_bucket_policy(LOGS, [BUCKET], "123456789012"))
    delivery = found["S3ServerAccessLogsDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Resource"] == [f"{LOGS}/s3-access/*"]
    assert delivery["Condition"] == {
        "ArnLike": {"aws:SourceArn": [BUCKET]},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    assert {"DenyInsecureTransport", "DenyOutdatedTls"} <= set(found)


def test_the_key_is_administered_through_iam_and_encrypts_this_accounts_log_groups():
    found = by_sid(lake_key_policy("123456789012", "aws-us-gov", "us-gov-west-1"))
    assert found["AccountAdministersThroughIam"]["Principal"] == {"AWS": "arn:aws-us-gov:iam::123456789012:root"}
    logs = found["CloudWatchLogsEncryption"]
    assert logs["Principal"] == {"Service": "logs.us-gov-west-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws-us-gov:logs:us-gov-west-1:123456789012:*"}
    }
