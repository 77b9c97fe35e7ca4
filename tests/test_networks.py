"""The PacGAN discriminator: what a pack is, exactly."""

from __future__ import annotations

import pytest
import torch

from gan_cli.models.networks import MLP, PackedMLP


def test_a_pack_is_m_consecutive_samples_concatenated_into_one_input():
    torch.manual_seed(0)
    packed = PackedMLP(in_features=2, pack=3, out_features=1, hidden=[8])
    plain = MLP(in_features=6, out_features=1, hidden=[8])
    plain.load_state_dict(packed.state_dict())
    x = torch.randn(12, 2)
    scores = packed(x)
    assert scores.shape == (4, 1)
    expected = plain(torch.cat([x[0::3], x[1::3], x[2::3]], dim=1))
    torch.testing.assert_close(scores, expected)


def test_score_each_scores_a_point_as_a_pack_of_its_copies():
    packed = PackedMLP(in_features=2, pack=2, out_features=1, hidden=[8])
    x = torch.randn(5, 2)  # 5 points: no whole number of packs, which score_each does not need
    torch.testing.assert_close(packed.score_each(x), packed(x.repeat_interleave(2, dim=0)))


def test_a_batch_that_does_not_split_into_packs_is_refused_naming_the_key():
    packed = PackedMLP(in_features=2, pack=4, out_features=1, hidden=[8])
    with pytest.raises(ValueError, match="model.pack=4"):
        packed(torch.randn(6, 2))
