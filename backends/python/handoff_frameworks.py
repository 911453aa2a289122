"""The Python loops and how each hands a call to another thread.

A framework adapter knows its loop (how to run a coroutine function on it,
how to run N awaiting tasks at once, its thread-safe wake) and builds the
handoff of a row: `await handoff(call)` returns the call's result or raises
its exception, on the loop thread. What the call does on the other thread is
`run(call)` (handoff_bench.make_runner): it counts the execution, notes the
CPU, and performs the work.

Targets:
  dedicated  one worker thread this module owns, built by a design (below)
  pool       the framework's own pool: asyncio.to_thread (the loop's default
             executor, sized --threads), trio.to_thread.run_sync and
             anyio.to_thread.run_sync (a CapacityLimiter of --threads)
  inline     no thread: the call awaited as a bare coroutine on the loop thread

Designs of the dedicated worker, on the lab's axes (handoff/design.hpp):
  wait=condvar   requests through a queue.SimpleQueue; the idle worker
                 blocks in SimpleQueue.get (a lock: a futex)
  wait=eventfd   requests through a collections.deque; the idle worker
                 publishes that it sleeps and blocks reading an eventfd,
                 which the loop writes only then (the GIL orders the flag and
                 the deque as seq_cst atomics would: Dekker's handshake holds)
  wait=spin-park:DUR
                 as eventfd, but the worker first polls the deque for DUR,
                 letting go of the GIL between polls (os.sched_yield), then sleeps
  wake=always    every result goes back through the framework's own
                 thread-safe call: loop.call_soon_threadsafe(set_result),
                 TrioToken.run_sync_soon(event.set), and for anyio the
                 blocking from-thread run_sync python-async-bench uses
  wake=gated     results go into a deque that the loop drains in batches,
                 woken through an eventfd in the loop's own poll set
                 (loop.add_reader; trio.lowlevel.wait_readable in a task;
                 anyio through its backend's) that the worker writes only
                 while the loop has published that it waits
  batch=on       the worker takes every queued call per wake (the deque waits
                 always do)
classic (wait=condvar, wake=always) is python-async-bench's design. The loop
side awaits the same thing in every design (an asyncio Future, a trio or
anyio Event), so designs differ only in how calls and results travel.
"""

import collections
import contextlib
import os
import queue
import threading
import time

from handoff_measure import pin_current_thread


# ---------------------------------------------------------------- designs


class Design:
    """The dedicated worker's design as the C++ side sends it."""

    def __init__(self, spec):
        self.name = spec.get("name", "classic")
        self.wait = spec.get("wait", "condvar")          # condvar | eventfd | spin-park
        self.worker_spin_ns = int(spec.get("worker_spin_ns", 0))
        self.wake = spec.get("wake", "always")           # always | gated
        self.batch = bool(spec.get("batch", False))
        if self.wait not in ("condvar", "eventfd", "spin-park"):
            raise ValueError(f"wait={self.wait} is not built for the Python backends")
        if self.wake not in ("always", "gated"):
            raise ValueError(f"wake={self.wake} is not built for the Python backends")

    def requests_phrase(self):
        if self.wait == "condvar":
            return "SimpleQueue" + (", batched" if self.batch else "")
        if self.wait == "eventfd":
            return "deque + eventfd, written only while the worker sleeps"
        return f"deque, the worker polls {self.worker_spin_ns} ns (sched_yield) then eventfd"


class RequestQueue:
    """Loop -> worker. put() on the loop thread; take() on the worker returns
    a list of requests (one unless batching), blocking while there is none."""

    def __init__(self, design):
        self.batch = design.batch
        self.wait = design.wait
        self.spin_ns = design.worker_spin_ns
        if design.wait == "condvar":
            self.q = queue.SimpleQueue()
            self.put = self.q.put
            self.take = self._take_simple
        else:
            self.items = collections.deque()
            self.sleeping = False
            self.efd = os.eventfd(0, os.EFD_CLOEXEC)
            self.put = self._put_gated
            self.take = self._take_spin_park if design.wait == "spin-park" else self._take_eventfd

    def close(self):
        if self.wait != "condvar":
            os.close(self.efd)

    # wait=condvar: SimpleQueue.get blocks on its lock.
    def _take_simple(self):
        q = self.q
        first = q.get()
        if not self.batch:
            return (first,)
        batch = [first]
        while not q.empty():
            batch.append(q.get_nowait())
        return batch

    # wait=eventfd: the loop writes the eventfd only while the worker has
    # published that it sleeps. Under the GIL each statement below is atomic
    # and sequentially consistent: the worker sets `sleeping` and then looks
    # at the deque; the loop appends and then looks at `sleeping`; one of the
    # two sees the other, so no request is left unseen.
    def _put_gated(self, item):
        self.items.append(item)
        if self.sleeping:
            self.sleeping = False  # one write per sleep is enough
            os.eventfd_write(self.efd, 1)

    def _drain(self):
        items = self.items
        batch = list(items)
        for _ in range(len(batch)):
            items.popleft()
        return batch

    def _take_eventfd(self):
        items = self.items
        while True:
            if items:
                return self._drain()
            self.sleeping = True
            if items:
                self.sleeping = False
                continue
            os.eventfd_read(self.efd)  # releases the GIL while it blocks
            self.sleeping = False

    def _take_spin_park(self):
        items = self.items
        if not items:
            # Poll for the budget before sleeping. Holding the GIL while
            # polling would keep the loop thread from running at all, so each
            # poll gives it up (sched_yield is a system call made without it).
            until = time.monotonic_ns() + self.spin_ns
            sched_yield, now = os.sched_yield, time.monotonic_ns
            while not items and now() < until:
                sched_yield()
        return self._take_eventfd()


class ResultGate:
    """wake=gated: worker -> loop through an eventfd in the loop's own poll
    set (as the lab's epoll loop is woken), written only while the loop has
    published that it waits (`armed`). The worker appends each finished call
    to a deque; the loop, woken by the eventfd, delivers everything queued,
    re-arms, and looks again: Dekker's handshake under the GIL, so no result
    is left without a wake or a drain that sees it, and results that arrive
    while the loop is awake cost no system call."""

    def __init__(self, deliver):
        self.results = collections.deque()
        self.armed = True
        self.efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.deliver = deliver  # loop thread: hands one finished call to its waiter

    def close(self):
        os.close(self.efd)

    def push(self, item):  # worker thread
        self.results.append(item)
        if self.armed:
            self.armed = False
            os.eventfd_write(self.efd, 1)

    def on_readable(self):  # loop thread, the eventfd readable
        try:
            os.eventfd_read(self.efd)  # resets it: a write after this wakes the loop again
        except BlockingIOError:
            pass
        results, deliver = self.results, self.deliver
        while True:
            while results:
                deliver(results.popleft())
            self.armed = True
            if not results:
                return
            self.armed = False


class DedicatedWorker:
    """The worker thread: takes requests, runs them, hands results back.
    `finish(item, call, error)` is the result path (wake=always: the
    framework's call per result; gated: ResultGate.push)."""

    def __init__(self, design, run, finish, cpu, name="handoff-worker"):
        self.requests = RequestQueue(design)
        self.run = run
        self.finish = finish
        self.cpu = cpu
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.started = threading.Event()

    def start(self):
        self.thread.start()
        self.started.wait()

    def stop(self):
        self.requests.put(None)
        self.thread.join()
        self.requests.close()

    def _main(self):
        pin_current_thread([self.cpu] if self.cpu >= 0 else [])
        self.started.set()
        take, run, finish = self.requests.take, self.run, self.finish
        while True:
            for item in take():
                if item is None:
                    return
                call = item.call
                try:
                    call.result = run(call)
                except Exception as e:  # the work's exception crosses back to the loop
                    call.error = e
                finish(item)


class Request:
    """What travels to the worker: the call and what its awaiter waits on."""

    __slots__ = ("call", "waiter")

    def __init__(self, call, waiter):
        self.call = call
        self.waiter = waiter


# ---------------------------------------------------------------- frameworks


def _bare_inline(run):
    async def bare(call):
        return run(call)

    async def handoff(call):
        return await bare(call)
    return handoff, "inline: the work awaited as a bare coroutine on the loop thread (no thread, no loop turn)"


class Framework:
    """What every framework adapter provides (see the subclasses):

    run(main)                    runs the coroutine function on a new loop, here
    gather(n, fn)                awaits fn(0) .. fn(n-1) running at once
    pool(run)                    (handoff, mechanism) through the framework's pool
    per_result_wake()            (finish, words): wake=always, the framework's
                                 thread-safe call for each result
    deliver(item)                loop thread: wakes the waiter of a finished call
    make_handoff(put)            the dedicated handoff: a waiter, put, await it
    watch_fd(fd, callback)       async context: callback() on the loop thread
                                 whenever fd is readable
    sleep(seconds)               the framework's own sleep (its timer): open
                                 loop waits with it for each intended time
    """

    def __init__(self, request):
        self.request = request
        self.threads = int(request.get("threads", 4))

    def version(self):
        return ""

    @contextlib.asynccontextmanager
    async def session(self, target, design, run, worker_cpu):
        """(handoff, mechanism) for the row, built on the loop thread and torn
        down when the block ends."""
        if target == "inline":
            yield _bare_inline(run)
            return
        if target == "pool":
            yield self.pool(run)
            return
        gate = None
        if design.wake == "always":
            finish, wake = self.per_result_wake()
        else:
            gate = ResultGate(self.deliver)
            finish = gate.push
            wake = "an eventfd in the loop's poll set, written only while the loop waits; results drained in batches"
        worker = DedicatedWorker(design, run, finish, worker_cpu)
        try:
            async with (self.watch_fd(gate.efd, gate.on_readable) if gate else _nothing()):
                worker.start()
                try:
                    yield self.make_handoff(worker.requests.put), \
                        f"worker thread: {design.requests_phrase()}; wake: {wake}"
                finally:
                    worker.stop()
        finally:
            if gate is not None:
                gate.close()


@contextlib.asynccontextmanager
async def _nothing():
    yield


class AsyncioFramework(Framework):
    """asyncio's selector loop, or uvloop: the loop's thread-safe wake is
    call_soon_threadsafe (a write to its self-pipe, or uv_async)."""

    def __init__(self, request, uvloop=False):
        super().__init__(request)
        self.uvloop = uvloop

    def version(self):
        if self.uvloop:
            import uvloop
            return "uvloop " + uvloop.__version__
        return ""

    def run(self, main):
        import asyncio
        if self.uvloop:
            import uvloop
            loop = uvloop.new_event_loop()
        else:
            loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(main())
        finally:
            try:
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def gather(self, n, fn):
        import asyncio
        await asyncio.gather(*(fn(i) for i in range(n)))

    @staticmethod
    async def sleep(seconds):
        import asyncio
        await asyncio.sleep(seconds)

    def pool(self, run):
        import asyncio
        import concurrent.futures
        asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix="asyncio-pool"))
        to_thread = asyncio.to_thread

        async def handoff(call):
            return await to_thread(run, call)
        return handoff, (f"asyncio.to_thread (the loop's default executor, {self.threads} threads); "
                         "wake: call_soon_threadsafe")

    @staticmethod
    def deliver(item):
        fut, call = item.waiter, item.call
        if not fut.done():
            if call.error is not None:
                fut.set_exception(call.error)
            else:
                fut.set_result(call.result)

    def per_result_wake(self):
        import asyncio
        call_soon_threadsafe, deliver = asyncio.get_running_loop().call_soon_threadsafe, self.deliver

        def finish(item):
            call_soon_threadsafe(deliver, item)
        return finish, "call_soon_threadsafe per result"

    def make_handoff(self, put):
        import asyncio
        create_future = asyncio.get_running_loop().create_future

        async def handoff(call):
            fut = create_future()
            put(Request(call, fut))
            return await fut
        return handoff

    @contextlib.asynccontextmanager
    async def watch_fd(self, fd, callback):
        import asyncio
        loop = asyncio.get_running_loop()
        loop.add_reader(fd, callback)
        try:
            yield
        finally:
            loop.remove_reader(fd)


def _event_handoff(put, Event):
    """trio's and anyio's: the call's Event, set on the loop thread."""
    async def handoff(call):
        event = Event()
        put(Request(call, event))
        await event.wait()
        if call.error is not None:
            raise call.error
        return call.result
    return handoff


@contextlib.asynccontextmanager
async def _trio_watch_fd(fd, callback):
    import trio
    wait_readable = trio.lowlevel.wait_readable

    async def reader():
        while True:
            await wait_readable(fd)
            callback()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        try:
            yield
        finally:
            nursery.cancel_scope.cancel()


class TrioFramework(Framework):
    """trio: the thread-safe wake is TrioToken.run_sync_soon (a queue and a
    write to its wakeup socket)."""

    def version(self):
        import trio
        return "trio " + trio.__version__

    def run(self, main):
        import trio
        return trio.run(main)

    async def gather(self, n, fn):
        import trio
        async with trio.open_nursery() as nursery:
            for i in range(n):
                nursery.start_soon(fn, i)

    @staticmethod
    async def sleep(seconds):
        import trio
        await trio.sleep(seconds)

    def pool(self, run):
        import trio
        limiter = trio.CapacityLimiter(self.threads)
        run_sync = trio.to_thread.run_sync

        async def handoff(call):
            return await run_sync(run, call, limiter=limiter)
        return handoff, (f"trio.to_thread.run_sync (trio's thread cache, a CapacityLimiter of {self.threads}); "
                         "wake: TrioToken.run_sync_soon")

    @staticmethod
    def deliver(item):
        item.waiter.set()

    def per_result_wake(self):
        import trio
        run_sync_soon = trio.lowlevel.current_trio_token().run_sync_soon

        def finish(item):
            run_sync_soon(item.waiter.set)
        return finish, "TrioToken.run_sync_soon(event.set) per result"

    def make_handoff(self, put):
        import trio
        return _event_handoff(put, trio.Event)

    def watch_fd(self, fd, callback):
        return _trio_watch_fd(fd, callback)


class AnyioFramework(Framework):
    """anyio on asyncio (optionally uvloop) or trio. A thread anyio did not
    start reaches the loop through the backend's token
    (anyio.lowlevel.current_token(): the asyncio loop, or the TrioToken)."""

    def __init__(self, request, backend, uvloop=False):
        super().__init__(request)
        self.backend = backend
        self.uvloop = uvloop

    def version(self):
        from importlib import metadata
        parts = ["anyio " + metadata.version("anyio")]
        if self.backend == "trio":
            import trio
            parts.append("trio " + trio.__version__)
        if self.uvloop:
            import uvloop
            parts.append("uvloop " + uvloop.__version__)
        return ", ".join(parts)

    def run(self, main):
        import anyio
        options = {"use_uvloop": True} if self.uvloop else {}
        return anyio.run(main, backend=self.backend, backend_options=options)

    async def gather(self, n, fn):
        import anyio
        async with anyio.create_task_group() as group:
            for i in range(n):
                group.start_soon(fn, i)

    @staticmethod
    async def sleep(seconds):
        import anyio
        await anyio.sleep(seconds)

    def pool(self, run):
        import anyio
        limiter = anyio.CapacityLimiter(self.threads)
        run_sync = anyio.to_thread.run_sync

        async def handoff(call):
            return await run_sync(run, call, limiter=limiter)
        return handoff, f"anyio.to_thread.run_sync (a CapacityLimiter of {self.threads}) on {self.backend}"

    @staticmethod
    def deliver(item):
        item.waiter.set()

    def per_result_wake(self):
        """python-async-bench's: anyio.from_thread.run_sync(event.set,
        token=...) (anyio 4), which waits until the loop has run it. anyio
        3.6 has no token= yet: its backends' own from-thread calls with the
        loop or token given do the same."""
        import inspect
        import anyio
        token = anyio.lowlevel.current_token()
        if "token" in inspect.signature(anyio.from_thread.run_sync).parameters:
            def blocking(fn):
                return anyio.from_thread.run_sync(fn, token=token)
        elif self.backend == "trio":
            import trio

            def blocking(fn):
                return trio.from_thread.run_sync(fn, trio_token=token)
        else:
            from anyio._backends._asyncio import run_sync_from_thread

            def blocking(fn):
                return run_sync_from_thread(fn, loop=token)

        def finish(item):
            blocking(item.waiter.set)
        return finish, "from-thread run_sync(event.set) per result, the worker waits until it ran"

    def make_handoff(self, put):
        import anyio
        return _event_handoff(put, anyio.Event)

    def watch_fd(self, fd, callback):
        if self.backend == "trio":
            return _trio_watch_fd(fd, callback)
        return AsyncioFramework.watch_fd(self, fd, callback)


FRAMEWORKS = ("asyncio", "uvloop", "trio", "anyio-asyncio", "anyio-uvloop", "anyio-trio")

# What each framework needs to import.
MODULES = {
    "asyncio": (),
    "uvloop": ("uvloop",),
    "trio": ("trio",),
    "anyio-asyncio": ("anyio",),
    "anyio-uvloop": ("anyio", "uvloop"),
    "anyio-trio": ("anyio", "trio"),
}


def make_framework(name, request):
    if name == "asyncio":
        return AsyncioFramework(request)
    if name == "uvloop":
        return AsyncioFramework(request, uvloop=True)
    if name == "trio":
        return TrioFramework(request)
    if name == "anyio-asyncio":
        return AnyioFramework(request, "asyncio")
    if name == "anyio-uvloop":
        return AnyioFramework(request, "asyncio", uvloop=True)
    if name == "anyio-trio":
        return AnyioFramework(request, "trio")
    raise ValueError(f"unknown framework {name!r}: expected one of {', '.join(FRAMEWORKS)}")
