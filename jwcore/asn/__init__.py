"""Level-2 and level-3 associations (the manual's "Associations" chapter), as JSON."""

from .association import Association, Member, Product, from_list, is_association, load

__all__ = ["Association", "Member", "Product", "from_list", "is_association", "load"]
