"""The datalake policy pack: the guardrails that `pulumi preview --policy-pack guardrails` and the tests run."""
