"""Pulumi ComponentResources, one per module, and the pure helpers they share."""
