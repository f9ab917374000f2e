"""Commands a guardian sends to the child's device (locate now, ring, message, listen, sync
policy): stored, pushed through FCM, waited for, acknowledged, audited."""
