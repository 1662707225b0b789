"""Every IAM document the program deploys, as plain dicts (no Pulumi), tested with plain asserts.

statements: the vocabulary (statements, trust policies, managed policy ARNs); storage: the buckets' and the key's
policies; etl: the roles EMR, EMR Serverless and Glue run as; state_machines: the pipelines' state machine role;
lambdas: the Lambda functions' roles. Callers pass ARNs already resolved (inside one `Output.all(...).apply`).
"""
