"""Leadership (pure): the Web Locks election, the leader epoch, the heartbeat and the
followers' watchdog, over an injected ``Runtime`` (runtime.py) and the ``Engine``.

The rules, each answering a fault that once stopped a queue or cost a job an attempt:

- The tab holding the exclusive lock leads, but only once ``become_leader`` has written a
  new epoch; every leader write is fenced by that epoch in its own transaction. If that
  write keeps failing (a transient store error, an old record), the tab retries with
  backoff, then releases the lock for ``leader_silence`` so another tab can lead: a tab
  never holds the lock without dispatching.
- The heartbeat is written by the dispatch loop (``beat``), so it proves that dispatch
  makes progress, not that a timer fires. It records whether the leader's page is
  hidden: a hidden page's timers may wake only once a minute.
- A follower judges silence by its own observations of the leader's heartbeat value on
  its monotonic clock, never by comparing wall clocks: a stepped clock or a late timer
  proves nothing. It starts a new observation window whenever its own watch had a gap
  (it was frozen or throttled itself). A hidden follower does not watch and never steals.
  A visible follower steals the lock after ``leader_silence`` of silence from a visible
  leader, and after ``HIDDEN_SILENCE`` (at least) from a hidden one, whose throttled
  timers must not cost its running job an attempt.
- A page about to be frozen (the ``freeze`` event) gives up the lock at once, leading or
  queued, and queues again on ``resume``: a frozen page cannot use a lock, and one
  granted to it would block every tab. A leader frozen without warning is replaced by the
  watchdog above; its writes are fenced when it wakes.
- ``Fenced`` from an epoch that is not the current one is stale news: ignored.
- A page that is going away (pagehide) or whose store was closed never requests the lock
  again, and a lock granted to it anyway is released at once (WebKit grants a request
  made by a dying page to that page's dead callback).
"""

from .errors import Fenced
from .runtime import later, sleep
from .stall import FACTOR, StallWatch

BECOME_TRIES = 6
# Chrome's intensive throttling wakes a page hidden for 5 minutes once a minute.
HIDDEN_SILENCE = 75.0


class Leadership:
    """One tab's part in the election of the queue's leader.

    ``on_change(epoch)`` is called with the new epoch when this tab starts leading and
    with None when it stops; ``idle()`` says whether this tab runs no job now;
    ``ask_handover(epoch)``, ``ping(epoch)`` and ``pong(epoch)`` post those messages to
    the other tabs (a follower asks the leader of ``epoch`` to hand over or for a sign of
    life; the leader answers).
    """

    def __init__(self, runtime, engine, lock_name, tab_id, silence, on_change,
                 idle=None, ask_handover=None, ping=None, pong=None, say_visibility=None):
        self._rt = runtime
        self._engine = engine
        self.lock_name = lock_name
        self.tab_id = tab_id
        self.silence = silence
        self._on_change = on_change
        self.active = False     # in the election (join() .. stop()/close())
        self.closed = False     # going away for good: never request again
        self.epoch = None       # the epoch this tab leads, else None
        self.holding = False    # the lock is granted to this tab
        self._gen = 0           # the current request; callbacks of older ones are ignored
        self._req = None
        self._watch_timer = None
        self._obs = None        # the follower's observation window of the heartbeat
        self._retry_timer = None
        self._idle = idle or (lambda: True)
        self._ask_handover = ask_handover or (lambda epoch: None)
        self._ping = ping or (lambda epoch: None)
        self._say_visibility = say_visibility or (lambda epoch, hidden: None)
        self._hidden_news = {}  # epoch -> hidden, as the leader said over the channel
        self._asked = {}        # epoch -> when this follower last asked it to hand over
        self._pong = pong or (lambda epoch: None)
        self._handover = False  # a visible follower asked this hidden leader to yield
        self.leader_hidden = False  # the last heartbeat a follower read said "hidden"
        self._frozen = False    # between the freeze and resume events
        self._checking = None   # monotonic start of the watchdog read in flight
        runtime.on_lifecycle(self._lifecycle)

    # -- the election ----------------------------------------------------------------
    def join(self):
        """Queue for leadership (idempotent) and start watching the leader."""
        if self.active or self.closed:
            return
        self.active = True
        self._request()
        self._arm_watch()

    def _request(self, steal=False):
        self._gen += 1
        gen = self._gen
        old, self._req = self._req, None
        if old is not None:
            old.release()
        self.holding = False
        self._req = self._rt.locks.request(
            self.lock_name, lambda: self._granted(gen), lambda err: self._ended(gen, err),
            steal=steal)

    def _granted(self, gen):
        if gen != self._gen or not self.active or self.closed or self._frozen:
            req = self._req if gen == self._gen else None
            if req is not None:
                req.release()
            return
        self.holding = True
        self._rt.spawn(self._become_or_give_up(gen), "becoming leader")

    async def _become_or_give_up(self, gen):
        # Whatever breaks the election outside its own retries (before await_fix.py,
        # Brython resumed this coroutine in another one's frame), or a store call of it
        # that never settles (stall.py), the tab must not keep the lock without leading:
        # no other tab could lead while it holds it.
        started = self._rt.monotonic()
        watch = StallWatch(
            self._rt, FACTOR * self.silence,
            lambda: started if gen == self._gen and self.epoch is None else None,
            lambda waited: self.give_up(None, "the leader election is stuck in a store "
                                        f"call ({int(waited)} s)"))
        try:
            await self._become(gen)
        except Exception as exc:
            self._rt.report("becoming leader", exc)
            if gen == self._gen and self.epoch is None:
                self.give_up(None, "the leader election failed")
        finally:
            watch.stop()

    def _ended(self, gen, error):
        if gen != self._gen:
            return  # a request this tab already replaced
        self._req = None
        self.holding = False
        if self.epoch is not None:
            if error is not None:
                self._rt.warn("another tab took over as leader; stepping down")
            self._set_epoch(None)
        if self.active and not self.closed and not self._frozen:
            self._request()  # queue again for the next turn

    async def _become(self, gen):
        delay = 0.05
        for attempt in range(BECOME_TRIES):
            if gen != self._gen or not self.active:
                return
            try:
                epoch = await self._engine.become_leader(
                    self.tab_id, live=lambda: gen == self._gen and self.active
                    and not self.closed, hidden=not self._rt.visible())
            except Exception as exc:
                if gen != self._gen or not self.active:
                    return  # stopped or closed meanwhile: nothing to report
                self._rt.report(f"becoming leader (try {attempt + 1} of {BECOME_TRIES})",
                                exc)
                await sleep(self._rt, delay)
                delay *= 2
                continue
            if epoch is None or gen != self._gen or not self.active:
                return  # the lock went meanwhile (nothing was written, or it is fenced)
            self._set_epoch(epoch)
            return
        self.give_up(None, f"could not become leader in {BECOME_TRIES} tries")

    def _set_epoch(self, epoch):
        if epoch == self.epoch:
            return
        self.epoch = epoch
        self._obs = None
        try:
            self._on_change(epoch)
        except Exception as exc:
            self._rt.report("leadership change", exc)

    def leads(self, epoch):
        """True while this tab leads under ``epoch``."""
        return epoch is not None and epoch == self.epoch

    def give_up(self, epoch, why):
        """Release the lock for ``silence`` seconds so another tab can lead (this one
        cannot make progress). ``epoch``: the epoch that failed, or None for the
        current one; a stale epoch is ignored."""
        if epoch is not None and epoch != self.epoch:
            return
        if not self.active or self.closed:
            return
        self._rt.warn(f"{why}; giving up leadership for {self.silence}s")
        self._gen += 1
        req, self._req = self._req, None
        self.holding = False
        self._set_epoch(None)
        if req is not None:
            req.release()
        if self._retry_timer is not None:
            self._retry_timer.cancel()
        self._retry_timer = later(self._rt, self.silence, self._rejoin)

    def _rejoin(self):
        self._retry_timer = None
        if self.active and not self.closed and self._req is None:
            self._request()

    def fenced(self, epoch):
        """A write under ``epoch`` was refused: another tab leads. Step down if that is
        this tab's current epoch and queue again."""
        if epoch is None or epoch != self.epoch:
            return  # news about an epoch this tab no longer leads
        self._rt.warn("another tab took over as leader; stepping down")
        self._set_epoch(None)
        if self.active and not self.closed:
            self._request()

    async def stop(self):
        """Leave the election: stop leading, mark the epoch ended so followers do not
        wait for its silence, release the lock."""
        self.active = False
        epoch = self.epoch
        self._set_epoch(None)
        self._stop_timers()
        if epoch is not None:
            try:
                await self._engine.resign(epoch)
            except Exception as exc:
                if not self.closed:
                    self._rt.report("resigning", exc)
        self._release()

    def close(self):
        """The page is going away or its store was closed: release everything now and
        never request the lock again."""
        self.closed = True
        self.active = False
        self._set_epoch(None)
        self._stop_timers()
        self._release()

    def _release(self):
        self._gen += 1
        req, self._req = self._req, None
        self.holding = False
        if req is not None:
            req.release()

    def _stop_timers(self):
        for timer in (self._watch_timer, self._retry_timer):
            if timer is not None:
                timer.cancel()
        self._watch_timer = None
        self._retry_timer = None

    def _lifecycle(self, event):
        if event == "unload":
            self.close()
        elif event in ("hidden", "visible"):
            self._obs = None  # a hidden follower neither watches nor steals
            self._handover = False
            if self.epoch is not None:
                # Tell the followers now, over the channel: the next heartbeat (which
                # records it too) may be a throttled minute away, and a store write now
                # could be caught by a freeze mid-transaction and block every tab.
                self._say_visibility(self.epoch, event == "hidden")
        elif event == "freeze" and self.active and not self.closed:
            self._frozen = True
            if self.epoch is not None:
                self._rt.warn("this page is being frozen; handing leadership over")
            self._set_epoch(None)
            self._release()
        elif event == "resume" and self._frozen:
            self._frozen = False
            self._obs = None
            if self.active and not self.closed and self._req is None:
                self._request()

    # -- the heartbeat (leader) ------------------------------------------------------------
    async def beat(self):
        """Write the heartbeat of the current epoch (the dispatch loop calls this).
        ``Fenced`` steps down; other errors propagate to the caller."""
        epoch = self.epoch
        if epoch is None:
            return
        try:
            await self._engine.heartbeat(epoch, hidden=not self._rt.visible())
        except Fenced:
            self.fenced(epoch)

    def pinged(self, epoch):
        """A follower asks the (hidden) leader of ``epoch`` for a sign of life."""
        if epoch == self.epoch:
            self._pong(epoch)

    def leader_visibility(self, epoch, hidden):
        """The leader of ``epoch`` said its page became hidden (or visible)."""
        self._hidden_news = {epoch: hidden}

    def ponged(self, epoch):
        """The leader of ``epoch`` answered this follower's ping: it is alive."""
        if self._obs is not None and self._obs["token"][0] == epoch:
            self._obs["pong"] = True

    # -- handing over from a hidden leader to a visible tab ------------------------------
    def handover_requested(self, epoch):
        """A visible follower asks the leader of ``epoch`` to yield: a hidden page's
        timers are throttled, so delayed jobs would start late here."""
        if epoch == self.epoch and not self._rt.visible():
            self._handover = True
            self.maybe_hand_over()

    def maybe_hand_over(self):
        """Yield leadership if a visible tab asked for it, this page is still hidden and
        no job runs here (so no attempt is interrupted). The dispatcher calls this when
        its last running job ends."""
        epoch = self.epoch
        if not self._handover or epoch is None or self._rt.visible() or not self._idle():
            return
        self._handover = False
        self._rt.warn("this page is hidden and a visible tab can lead; handing over")
        self._set_epoch(None)
        self._rt.spawn(self._hand_over(epoch), "handing over leadership")

    async def _hand_over(self, epoch):
        # The lock goes even if the resign write never settles (stall.py): the next
        # holder writes its own epoch anyway; the resigned record only tells followers.
        gen = self._gen
        started = self._rt.monotonic()
        watch = StallWatch(self._rt, FACTOR * self.silence, lambda: started,
                           lambda waited: self._handed_over(gen))
        try:
            await self._engine.resign(epoch)
        except Exception as exc:
            self._rt.report("resigning", exc)
        watch.stop()
        self._handed_over(gen)

    def _handed_over(self, gen):
        if gen != self._gen:
            return  # released already (a stalled resign, or the page closed)
        self._release()
        if self.active and not self.closed and not self._frozen:
            self._request()  # queue again, behind the tabs already waiting

    # -- the watchdog (followers) ----------------------------------------------------------
    def _period(self):
        return self.silence / 4

    def _arm_watch(self):
        jitter = 0.8 + 0.4 * self._rt.random()
        self._watch_timer = later(self._rt, self._period() * jitter, self._watch)

    def _watch(self):
        self._watch_timer = None
        if not self.active or self.closed:
            return
        mono = self._rt.monotonic()
        if self.epoch is None and not self.holding and self._rt.visible() and (
                self._checking is None or mono - self._checking >= FACTOR * self.silence):
            # One read at a time: a frozen leader's open transaction can block it. A
            # read in flight for 3 x silence is abandoned (stall.py): one that never
            # settles must not end this tab's watch for good.
            self._checking = mono
            self._rt.spawn(self._check(mono), "leader watchdog")
        self._arm_watch()

    async def _check(self, started):
        failed = False
        info = None
        try:
            info = await self._engine.leader_info()
        except Exception:
            failed = True
        if self._checking != started:
            return  # abandoned: a newer read took over from this one
        self._checking = None
        if failed:
            return  # a store error: judge nothing from this look
        if self.epoch is not None or self.holding or not self.active or self._frozen:
            return
        mono = self._rt.monotonic()
        if info is None:
            self._obs = None  # no leader ever: the lock hands over by itself
            return
        # A resigned record (beat None) normally lasts only until the next tab in the
        # lock's queue writes its epoch; one that lasts while the lock is held means
        # that tab cannot lead (frozen without warning): it counts as silence too.
        resigned = info.get("beat") is None
        epoch = info.get("epoch")
        hidden = bool(info.get("hidden")) or self._hidden_news.get(epoch, False)
        self.leader_hidden = hidden and not resigned
        if self.leader_hidden and mono - self._asked.get(epoch, -1e9) > self.silence:
            # A visible tab should lead: ask the hidden leader (again every silence).
            self._asked = {epoch: mono}
            self._ask_handover(epoch)
        token = (epoch, info.get("beat"))
        obs = self._obs
        if obs is None or obs["token"] != token or mono - obs["last"] > self.silence:
            # A new heartbeat, or this tab's own watch had a gap: a new window.
            self._obs = {"token": token, "since": mono, "last": mono}
            return
        obs["last"] = mono
        silent = mono - obs["since"]
        limit = self.silence
        if self.leader_hidden and silent < HIDDEN_SILENCE:
            # A hidden leader's timers may be throttled, but its message handlers run:
            # ask it for a sign of life (a pong over the channel, no store write: a
            # write started by a page that is being frozen would block every tab).
            if silent <= limit:
                return
            if "pinged" not in obs:
                obs["pinged"] = mono
                self._ping(token[0])
                return
            if obs.get("pong") or mono - obs["pinged"] < self.silence / 4:
                return  # alive and throttled, or not yet answered
        if silent > limit and self._rt.visible() \
                and await self._rt.locks.held(self.lock_name) \
                and self._obs is obs and self.epoch is None and self.active:
            self._obs = None
            try:
                # One thief only: the first follower to claim this silence in the store.
                won = await self._engine.claim_takeover(token[0], token[1], self.tab_id)
            except Exception:
                return  # a store error: look again next time
            if won and self.epoch is None and self.active and not self._frozen:
                self._rt.warn(f"leader silent for more than {silent:.1f}s; taking over")
                self._request(steal=True)
