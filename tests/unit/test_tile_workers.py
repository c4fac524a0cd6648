"""How a print's tiles are handed to Ray's workers (nst.run.dispatch.Dispatch), on a stand-in
for Ray whose workers take a set time a tile on a simulated clock: every tile once, in proportion
to each worker's speed, several at a time; a dead worker's tiles and a late task's sent again; one
line when every worker is lost. The same on a real two-node Ray: tests/test_cluster.py."""

import pytest

from nst.errors import WorkersLost
from nst.media.tiling import in_tile_order
from nst.run.dispatch import Dispatch, TileStats
from nst.run.memory import kept_activations_mb


class ActorDied(Exception):
    pass


class TaskFailed(Exception):
    pass


class Exceptions:
    RayActorError = ActorDied
    RayTaskError = TaskFailed


class Task:
    def __init__(self, actor, indices, started, ends):
        self.actor, self.indices, self.started, self.ends = actor, indices, started, ends


class Actor:
    """A worker that takes ``seconds`` a tile; ``dies_at``: the time its process is killed."""

    def __init__(self, ray, name, seconds, dies_at=None):
        self.ray, self.name, self.seconds, self.dies_at = ray, name, seconds, dies_at
        self.forward = self  # actor.forward.remote(...)
        self.tiles, self.tasks = [], 0

    def remote(self, options, image, indices):
        self.tiles.extend(indices)
        self.tasks += 1
        return Task(self, indices, self.ray.now, self.ray.now + self.seconds * len(indices))


class Method:
    """A second method of an :class:`Actor` (its backward pass), ``factor`` times its forward's time."""

    def __init__(self, actor, factor):
        self.actor, self.factor = actor, factor
        self.tiles = []

    def remote(self, options, image, indices):
        self.tiles.extend(indices)
        ray, seconds = self.actor.ray, self.actor.seconds * self.factor
        return Task(self.actor, indices, ray.now, ray.now + seconds * len(indices))


class FakeRay:
    """ray.wait and ray.get over :class:`Task`\\ s on a simulated clock."""

    exceptions = Exceptions

    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def _ready_at(self, task):
        dies = task.actor.dies_at
        return min(task.ends, dies) if dies is not None else task.ends

    def wait(self, tasks, num_returns, timeout):
        first = min(tasks, key=self._ready_at)
        if timeout is not None and self._ready_at(first) > self.now + timeout:
            self.now += timeout
            return [], tasks
        self.now = max(self.now, self._ready_at(first))
        return [first], [task for task in tasks if task is not first]

    def get(self, task):
        if task.actor.dies_at is not None and task.actor.dies_at <= task.ends:
            raise ActorDied(f"{task.actor.name} died")
        return [(index, f"tile {index}") for index in task.indices], task.ends - task.started

    def kill(self, actor):
        actor.dies_at = min(actor.dies_at if actor.dies_at is not None else self.now, self.now)


def dispatch(ray, *actors):
    stats = TileStats(workers=len(actors))
    return Dispatch(ray, {actor: actor.name for actor in actors}, stats, clock=ray.clock), stats


def results(dispatcher, count):
    return list(dispatcher.run("forward", count, None, "image"))


def test_every_tile_is_done_once_in_proportion_to_each_workers_speed_several_at_a_time():
    ray = FakeRay()
    fast, slow = Actor(ray, "fast", 1.0), Actor(ray, "slow", 3.0)
    dispatcher, stats = dispatch(ray, fast, slow)
    results(dispatcher, 32)  # the first step measures the workers: equal shares until then
    before, started = dict(stats.tiles), ray.now
    done = results(dispatcher, 32)
    assert sorted(index for index, _ in done) == list(range(32))
    assert list(in_tile_order(done)) == [f"tile {index}" for index in range(32)]
    assert stats.resent == 0 and stats.lost == 0
    fast_tiles, slow_tiles = (stats.tiles[name] - before[name] for name in ("fast", "slow"))
    # By speed, the fast worker takes 3 tiles to the slow one's 1: 24 and 8, and the step takes
    # 24 s, where equal shares would take 48 s; within a tile of it.
    assert (fast_tiles, slow_tiles) in ((24, 8), (23, 9), (25, 7))
    assert ray.now - started <= 24 + 3
    # Several tiles a task (fewer as a step ends): 64 tiles in 2 steps, over 2.5 a task.
    assert len(fast.tiles) + len(slow.tiles) == 64 and 64 / (fast.tasks + slow.tasks) > 2.5


def test_a_dead_workers_tiles_go_to_a_live_one_and_the_step_completes():
    ray = FakeRay()
    living, dying = Actor(ray, "living", 1.0), Actor(ray, "dying", 1.0, dies_at=2.5)
    dispatcher, stats = dispatch(ray, living, dying)
    done = results(dispatcher, 16)
    assert sorted(index for index, _ in done) == list(range(16))
    assert stats.lost == 1 and stats.resent >= 1 and dying not in dispatcher.actors
    assert stats.tiles["living"] == 16 - stats.tiles["dying"]
    again = results(dispatcher, 16)  # the next step runs on the one left
    assert sorted(index for index, _ in again) == list(range(16)) and stats.tiles["living"] >= 32 - 2


def test_a_late_tasks_tiles_go_again_to_an_idle_worker_and_the_first_answer_counts():
    ray = FakeRay()
    steady, stalling = Actor(ray, "steady", 1.0), Actor(ray, "stalling", 1.0)
    dispatcher, stats = dispatch(ray, steady, stalling)
    results(dispatcher, 8)  # measured: a second a tile each
    stalling.seconds = 100.0  # its machine is now loaded: 100 s a tile
    started = ray.now
    done = results(dispatcher, 8)
    assert sorted(index for index, _ in done) == list(range(8))
    assert stats.resent >= 1 and stats.lost == 0
    # The stalled tiles came from the steady worker, well before the stalled task would have ended.
    assert ray.now - started < 100.0


def test_a_backward_pass_is_timed_as_its_own_and_not_taken_for_late_for_costing_four_forward_ones():
    ray = FakeRay()
    first, second = Actor(ray, "first", 1.0), Actor(ray, "second", 1.0)
    first.backward, second.backward = Method(first, 4.0), Method(second, 4.0)
    dispatcher, stats = dispatch(ray, first, second)
    for _ in range(3):  # steps: the sums' round, then the gradient's
        assert sorted(index for index, _ in dispatcher.run("forward", 8, None, "image")) == list(range(8))
        assert sorted(index for index, _ in dispatcher.run("backward", 8, None, "image")) == list(range(8))
    assert stats.resent == 0
    # Each round's shares and deadlines come from its own method's measured speed.
    assert dispatcher.speeds == {"forward": {first: 1.0, second: 1.0}, "backward": {first: 4.0, second: 4.0}}


def test_with_every_worker_lost_the_step_fails_in_one_line():
    ray = FakeRay()
    dispatcher, stats = dispatch(ray, Actor(ray, "a", 1.0, dies_at=1.5), Actor(ray, "b", 1.0, dies_at=0.5))
    with pytest.raises(WorkersLost, match=r"^every Ray worker was lost \(2 of 2\)$"):
        results(dispatcher, 8)


def test_tiles_are_added_in_tile_order_whatever_order_they_arrive_in():
    arrived = [(2, "c"), (0, "a"), (3, "d"), (1, "b")]
    assert list(in_tile_order(arrived)) == ["a", "b", "c", "d"]


def test_a_tiles_backward_pass_goes_to_the_worker_that_kept_its_activations_while_it_lives():
    ray = FakeRay()
    first, second = Actor(ray, "first", 1.0), Actor(ray, "second", 2.0)
    first.backward, second.backward = Method(first, 2.0), Method(second, 2.0)
    dispatcher, _ = dispatch(ray, first, second)
    for _ in range(2):  # the second step's shares by measured speed
        first.tiles.clear(), second.tiles.clear()
        assert len(list(dispatcher.run("forward", 12, None, "image"))) == 12
        owners = dispatcher.ran["forward"]
        assert sorted(owners) == list(range(12)) and sorted(first.tiles + second.tiles) == list(range(12))
        first.backward.tiles.clear(), second.backward.tiles.clear()
        done = dispatcher.run("backward", 12, None, "image", owners=owners)
        assert sorted(index for index, _ in done) == list(range(12))
        assert sorted(first.backward.tiles) == sorted(first.tiles)
        assert sorted(second.backward.tiles) == sorted(second.tiles)
    # A worker lost between the passes: the tiles it kept are done by the one left.
    ray.kill(second)
    dispatcher._lost(second)
    done = dispatcher.run("backward", 12, None, "image", owners=owners)
    assert sorted(index for index, _ in done) == list(range(12)) and dispatcher.ran["backward"] == dict.fromkeys(
        range(12), first
    )


def test_a_worker_keeps_activations_only_in_what_its_share_leaves_over_its_own_work():
    crop, picture = (608, 608), (1280, 2048, 3)  # a 512 px tile's crop of a 2048 px print
    assert kept_activations_mb(crop, picture, share_mb=2000.0) == 0.0  # its own work takes the share
    room = kept_activations_mb(crop, picture, share_mb=12000.0)
    assert 0.0 < room < 0.9 * 12000.0  # planned as a run is, less its own peak
    assert kept_activations_mb(crop, picture, share_mb=24000.0) - room == pytest.approx(0.9 * 12000.0)  # the rest, kept
