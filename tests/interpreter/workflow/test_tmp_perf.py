import time
from tests.interpreter.workflow.conftest import Start
from tests.interpreter.workflow.test_for_each import loop


async def test_perf(start: Start) -> None:
    body = {
        "nodes": [{"id": "sq", "type": "transform", "config": {"value": "{{ item * 2 }}"}}],
        "output": "{{ nodes.sq.output }}",
    }
    t = time.perf_counter()
    handle = await start(
        loop(body, max_concurrency=100),
        {"items": list(range(1200))},
        activities=[],
        for_each_batch_threshold=100,
        for_each_batch_size=500,
    )
    await handle.result()
    print("took", time.perf_counter() - t)
