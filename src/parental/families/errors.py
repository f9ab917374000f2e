from __future__ import annotations

from parental.kit.errors import Conflict, Forbidden, NotFound


class FamilyNotFound(NotFound):
    message = "No such family."


class AlreadyInFamily(Conflict):
    message = "This account already belongs to a family."


class NoFamily(Conflict):
    message = "Create a family (or accept an invitation) first."


class InvitationNotFound(NotFound):
    message = "No such invitation."


class InvitationClosed(Conflict):
    message = "This invitation was already accepted, declined, revoked or has expired."


class InvitationPending(Conflict):
    message = "This number already has a pending invitation to this family."


class GuardianNotFound(NotFound):
    message = "No such guardian in this family."


class OwnerOnly(Forbidden):
    message = "Only the family's owner may do this."


class CannotRemoveOwner(Conflict):
    message = "The family's owner cannot be removed."
