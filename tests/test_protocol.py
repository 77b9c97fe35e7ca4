"""PacGAN's toy protocol (gan_cli/models/protocol.py): its networks' shapes and its fixed training set."""

import torch

from gan_cli.models.protocol import BatchNormMLP, Maxout, PackedMaxoutMLP, grid_training_set


def test_maxout_is_the_largest_of_its_affine_pieces():
    layer = Maxout(2, width=3, pieces=5)
    x = torch.randn(7, 2)
    pieces = layer.linear(x).view(7, 3, 5)
    torch.testing.assert_close(layer(x), pieces.max(dim=2).values)


def test_pacgan_networks_have_the_papers_shapes():
    g = BatchNormMLP(2, 2)
    assert [m.out_features for m in g.modules() if isinstance(m, torch.nn.Linear)] == [400, 400, 400, 400, 2]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in g.modules()) == 4
    d = PackedMaxoutMLP(2, pack=4)
    assert [m.linear.in_features for m in d.net if isinstance(m, Maxout)] == [8, 200, 200]
    assert d(torch.randn(100, 2)).shape == (25, 1)  # one score per pack of 4


def test_the_fixed_training_set_is_walked_in_epochs_and_resumes_at_its_batch():
    data = grid_training_set(num_points=1000, seed=3)
    assert data.points.shape == (1000, 2)
    torch.testing.assert_close(data.points, grid_training_set(num_points=1000, seed=3).points)
    stream = data.batches(100, torch.device("cpu"))
    first = [next(stream) for _ in range(13)]
    # epoch 0: every point once; epoch 1 starts over in another order
    epoch0 = torch.cat(first[:10])
    assert sorted(map(tuple, epoch0.tolist())) == sorted(map(tuple, data.points.tolist()))
    assert not torch.equal(first[10], first[0])
    resumed = data.batches(100, torch.device("cpu"), start=11)
    torch.testing.assert_close(next(resumed), first[11])
