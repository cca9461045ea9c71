"""Every check and handler of Kartu's routers runs on the event loop: aiogram hands any plain
callable (a magic filter such as ``F.text``, a form's ``State`` used as a filter, a sync function) to a
worker thread for every update it checks, about 100 microseconds of CPU and a wait each, so a message
that walks past forty handlers would cross threads dozens of times before anyone answers it."""

from __future__ import annotations

from aiogram import Dispatcher, Router

from kartu.handlers import build_routers


def _routers(router: Router) -> list[Router]:
    return [router, *(nested for sub in router.sub_routers for nested in _routers(sub))]


def test_no_filter_or_handler_leaves_the_event_loop() -> None:
    dispatcher = Dispatcher()
    dispatcher.include_routers(*build_routers())
    off_loop = []
    checked = 0
    for router in _routers(dispatcher):
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                for candidate in (handler, *(handler.filters or ())):
                    checked += 1
                    if not candidate.awaitable:
                        off_loop.append(f"{router.name} {name}: {candidate.callback!r}")
            for filter_ in observer._handler.filters or ():
                checked += 1
                if not filter_.awaitable:
                    off_loop.append(f"{router.name} {name} (router filter): {filter_.callback!r}")
    assert checked > 100
    assert off_loop == []
