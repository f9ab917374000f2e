from __future__ import annotations

from typing import ClassVar

from parental.kit.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, TooManyRequests


class CommandNotFound(NotFound):
    message = "No such command."


class CommandExpired(Gone):
    message = "The command expired before the device finished it."


class CommandFinished(Conflict):
    message = "The command is already finished; it cannot change any more."


class CommandOverQuota(TooManyRequests):
    message = "Too many commands of this kind for this child; nothing was sent."


class ListenNotForThisAge(Forbidden):
    message = "Listening is not offered for a child of this age."


class GuardianTooNew(Forbidden):
    message = "A guardian who joined the family recently cannot start a listening session yet."


class ListenTooLong(BadRequest):
    message = "The listening session is longer than the carrier allows."


class ListenNeedsAudio(Conflict):
    message = "A listening session is done when its audio is uploaded, not by an acknowledgement."


class LocateNeedsFix(Conflict):
    message = "locate_now is done with a fresh fix: upload it, then name its time in fix_time."


class AudioNotAccepted(BadRequest):
    status_code: ClassVar[int] = 415
    message = "The audio's type is not one of the accepted ones, or its bytes are not that type."


class AudioNotExpected(Conflict):
    message = "Only a listening session that is not finished takes audio."


class AudioGone(Gone):
    message = "The recording was deleted: recordings are kept for a limited time."


class NoAudio(NotFound):
    message = "The device has not uploaded a recording for this command."
