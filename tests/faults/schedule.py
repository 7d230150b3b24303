"""A seeded random schedule of faults, applied to a `FaultProxy` while runs go on."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from tests.faults.proxy import FaultProxy

# Each fault, with the most it does at once: every one is ridden out by a run whose
# --storage-wait is longer than `MAX_OUTAGE_S`. Replies and drops are made within a blip of
# `BLIP_S` (those not met by then are dropped), as a network's are.
FAULTS = ("lose_commit_replies", "drop_mid_transaction", "delay", "refuse")
MAX_OUTAGE_S = 4.0
BLIP_S = 1.0


@dataclass(frozen=True)
class Fault:
    after_s: float  # since the previous fault ended
    kind: str
    amount: float  # replies or connections, or seconds of delay or refusal


def schedule(seed: int, count: int) -> list[Fault]:
    """`count` faults, drawn from `seed` alone."""
    draw = random.Random(seed)
    faults = []
    for _ in range(count):
        kind = draw.choice(FAULTS)
        amount = {
            "lose_commit_replies": draw.randint(1, 4),
            "drop_mid_transaction": draw.randint(1, 4),
            "delay": round(draw.uniform(0.5, 3.0), 2),
            "refuse": round(draw.uniform(0.5, MAX_OUTAGE_S), 2),
        }[kind]
        faults.append(Fault(round(draw.uniform(2.0, 8.0), 2), kind, amount))
    return faults


class Injector:
    """Applies `faults` in order in a thread, until they are done or `stop()`; `error` is
    what stopped it otherwise."""

    def __init__(self, proxy: FaultProxy, faults: list[Fault]) -> None:
        self.proxy, self.faults = proxy, faults
        self.applied: list[Fault] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._apply()
        except BaseException as e:  # reported by the test
            self.error = e

    def _apply(self) -> None:
        for fault in self.faults:
            if self._stop.wait(fault.after_s):
                return
            self.applied.append(fault)
            if fault.kind == "lose_commit_replies":
                self.proxy.lose_commit_replies(int(fault.amount), within=BLIP_S)
            elif fault.kind == "drop_mid_transaction":
                self.proxy.drop_mid_transaction(int(fault.amount), within=BLIP_S)
            elif fault.kind == "delay":
                self.proxy.delay(0.05)
                self._stop.wait(fault.amount)
                self.proxy.delay(0.0)
            else:
                self.proxy.refuse()
                self._stop.wait(fault.amount)
                self.proxy.accept()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.proxy.delay(0.0)
        self.proxy.accept()
