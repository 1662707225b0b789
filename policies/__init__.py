"""The datalake policy pack: guardrails `pulumi preview --policy-pack policies` and the tests run on every stack."""
