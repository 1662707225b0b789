"""The platform's own places in the lake: where code ships to, where Glue and EMR keep their files and logs, where
Athena writes results. Each pipeline's data prefixes are declared beside it (pipelines/<pipeline>.py)."""

from pipelines.model import Location

# The scripts bucket: what runs in AWS, and Glue's scratch space.
JOB_CODE = Location("scripts", "jobs/")  # job scripts, their --py-files archive, the EMR bootstrap script
FUNCTION_CODE = Location("scripts", "functions/")  # Lambda code archives
GLUE_TEMP = Location("scripts", "glue-temp/")  # the Glue job's --TempDir
# The logs bucket.
EMR_LOGS = Location("logs", "emr/")  # EMR and EMR Serverless logs, one prefix per pipeline: EMR_LOGS.child(name)
ACCESS_LOGS = Location("logs", "s3-access/")  # S3 server access logs, one prefix per zone: ACCESS_LOGS.child(zone)
# The athena-results bucket.
QUERY_RESULTS = Location("athena-results", "athena/")  # the workgroup's query results

PLATFORM = (JOB_CODE, FUNCTION_CODE, GLUE_TEMP, EMR_LOGS, ACCESS_LOGS, QUERY_RESULTS)
