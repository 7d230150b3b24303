"""A seeded random schedule of faults, applied to a `FaultProxy` while runs go on."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from tests.faults.proxy import FaultProxy

# What each side can meet, with the most it does at once: every one is ridden out by a run
# whose --storage-wait is longer than `MAX_OUTAGE_S` and whose uploads are tried for longer
# than it (`stores.UPLOAD_RETRIES`). Replies and drops are made within a blip of `BLIP_S`
# (those not met by then are dropped), as a network's are. The bucket speaks HTTP, so its
# faults are the wire's alone; every `STORE_SHARE`-th fault is the bucket's.
FAULTS = {
    "database": ("lose_commit_replies", "drop_mid_transaction", "delay", "refuse"),
    "store": ("delay", "refuse"),
}
STORE_SHARE = 4
MAX_OUTAGE_S = 4.0
BLIP_S = 1.0


@dataclass(frozen=True)
class Fault:
    after_s: float  # since the previous fault ended
    side: str  # "database" or "store"
    kind: str
    amount: float  # replies or connections, or seconds of delay or refusal


def schedule(seed: int, count: int) -> list[Fault]:
    """`count` faults, drawn from `seed` alone."""
    draw = random.Random(seed)
    faults = []
    for i in range(count):
        side = "store" if i % STORE_SHARE == STORE_SHARE - 1 else "database"
        kind = draw.choice(FAULTS[side])
        amount = {
            "lose_commit_replies": draw.randint(1, 4),
            "drop_mid_transaction": draw.randint(1, 4),
            "delay": round(draw.uniform(0.5, 3.0), 2),
            "refuse": round(draw.uniform(0.5, MAX_OUTAGE_S), 2),
        }[kind]
        faults.append(Fault(round(draw.uniform(2.0, 8.0), 2), side, kind, amount))
    return faults


class Injector:
    """Applies `faults` in order in a thread, each through the proxy of its side, until they
    are done or `stop()`; `error` is what stopped it otherwise."""

    def __init__(self, proxies: dict[str, FaultProxy], faults: list[Fault]) -> None:
        self.proxies, self.faults = proxies, faults
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
            proxy = self.proxies[fault.side]
            if fault.kind == "lose_commit_replies":
                proxy.lose_commit_replies(int(fault.amount), within=BLIP_S)
            elif fault.kind == "drop_mid_transaction":
                proxy.drop_mid_transaction(int(fault.amount), within=BLIP_S)
            elif fault.kind == "delay":
                proxy.delay(0.05)
                self._stop.wait(fault.amount)
                proxy.delay(0.0)
            else:
                proxy.refuse()
                self._stop.wait(fault.amount)
                proxy.accept()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for proxy in self.proxies.values():
            proxy.delay(0.0)
            proxy.accept()
