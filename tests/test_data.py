import math

import pytest
import torch

from gan_cli.data.toy import Gaussian1D, SwissRoll, grid, ring


def test_ring_has_eight_distinct_modes_on_the_unit_circle():
    r = ring()
    assert r.centres.shape == (8, 2)
    assert torch.allclose(r.centres.norm(dim=1), torch.ones(8))
    # the linspace(0, 2π, 8) trap would repeat the first centre; ours are all ≥ 2 sin(π/8) apart
    d = torch.cdist(r.centres, r.centres) + torch.eye(8) * 10
    assert d.min().item() == pytest.approx(2 * math.sin(math.pi / 8), rel=1e-5)
    assert torch.allclose(r.centres[1], torch.tensor([math.cos(math.pi / 4), math.sin(math.pi / 4)]))


def test_grid_has_25_modes_on_the_protocol_lattice():
    g = grid()
    assert g.centres.shape == (25, 2)
    assert set(g.centres[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert g.std == 0.05


def test_samples_lie_near_their_centres_and_cover_every_mode():
    torch.manual_seed(0)
    r = ring()
    x = r.sample(4000)
    nearest = torch.cdist(x, r.centres).min(dim=1)
    assert (nearest.values < 5 * r.std).all()
    assert len(nearest.indices.unique()) == 8


def test_gaussian1d_and_swissroll_shapes():
    g = Gaussian1D(std=2.0, offset=3.0)
    x = g.sample(20000)
    assert x.shape == (20000, 1) and g.dim == 1 and g.generator_offset == 3.0
    assert x.std().item() == pytest.approx(2.0, rel=0.05)
    s = SwissRoll().sample(100)
    assert s.shape == (100, 2)
