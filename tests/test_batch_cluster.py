"""nst batch on two Ray nodes (started on this machine by ray.cluster_utils.Cluster): items run
on both, and the pictures equal the single command's, as on one node."""

import numpy as np
import pytest
import ray
from PIL import Image

from nst import Options, stylize
from nst.apps import batch
from tests.helpers import CONTENT, EXAMPLES, STYLE, ray_cluster, within

pytestmark = [pytest.mark.slow, pytest.mark.ray]

SETTINGS = {"size": 32, "steps": 8, "jit_compile": False}


@pytest.fixture(scope="module")
def two_nodes():
    with ray_cluster(num_cpus=1) as cluster:
        yield cluster


def test_items_run_on_both_nodes_and_equal_the_single_commands(two_nodes, weights, tmp_path):
    photos = []
    for source in (CONTENT, EXAMPLES / "coffee.jpg"):
        with Image.open(source) as image:
            photos.append(tmp_path / f"{source.stem}.png")
            image.resize((48, 32)).save(photos[-1])
    paintings = [STYLE, EXAMPLES / "the-scream.jpg"]
    options = Options(weights=weights, **SETTINGS)
    summary = batch.stylize_many(photos, paintings, tmp_path / "out", options, workers=batch.Workers(count=2))
    assert [outcome.status for outcome in summary.items] == ["done"] * 4
    assert len({outcome.node for outcome in summary.items}) == 2
    assert {node["NodeID"][:12] for node in ray.nodes()} == {outcome.node for outcome in summary.items}
    for outcome in summary.items:
        single = stylize(outcome.input, [outcome.painting], options)
        with Image.open(outcome.output) as made:
            difference = np.asarray(made, dtype=np.int16) - np.asarray(single.image, dtype=np.int16)
        within("on two nodes, an item against the single command's, largest 8-bit difference", np.abs(difference).max(),
               at_most=1)  # fmt: skip
