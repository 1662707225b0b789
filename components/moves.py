"""Resources an earlier release registered under another component: Pulumi aliases to their old URNs, so `pulumi up`
of a deployed stack moves each one in place instead of replacing it (README, Upgrading)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class MovedFrom:
    """A component whose children were once `<name>-<role>` under the component `parent` (a URN): a child named
    `<component>-<role>` was `<name>-<role>`, or `<name>-<roles[role]>` where its role changed."""

    parent: pulumi.Input[str]
    name: str
    roles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def component(cls, name: str, type_: str) -> MovedFrom:
        """Children that were named `<name>-<role>` under the stack's component `name` of type `type_`."""
        return cls(pulumi.create_urn(name, type_), name)

    def aliases(self, component: str, child: str) -> list[pulumi.Alias]:
        if not child.startswith(f"{component}-"):
            raise ValueError(f"{child!r} is not named <{component}>-<role>: its old name is unknown")
        role = child[len(component) + 1 :]
        return [pulumi.Alias(name=f"{self.name}-{self.roles.get(role, role)}", parent=self.parent)]


def child_options(
    parent: pulumi.Resource, parent_name: str, child: str, moved_from: MovedFrom | None, **options
) -> pulumi.ResourceOptions:
    """The options of the child `child` of `parent` (named `parent_name`): parented, and aliased to where it was
    before it moved."""
    aliases = moved_from.aliases(parent_name, child) if moved_from else None
    return pulumi.ResourceOptions(parent=parent, aliases=aliases, **options)
