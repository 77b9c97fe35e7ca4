"""The networks: the generator G(z) and the discriminator/critic D(x), plain torch modules
chosen by conf/model/.

- networks.py: the MLP, PacGAN's packed MLP discriminator, DCGAN's generator and discriminator;
- packed.py: PacDCGAN's discriminator (packs of images stacked along the channels);
- protocol.py: PacGAN's own toy networks and its fixed training set, for a like-for-like grid row;
- shifted_noise.py: G(z) = z + b, a generator whose distribution is known exactly (gan-claims).

May import: the shared modules (gan_cli.config, errors, resources) and data/.
"""
