"""The default network of :class:`IDExpOClassifier` on images: a small CNN."""

import torch

__all__ = ["CNN", "FlatInput"]


class CNN(torch.nn.Module):
    """Two 3x3 convolutions (the first followed by 2x2 max pooling), then a ReLU MLP head.

    ``(n, C, H, W) -> conv(C, c1) -> ReLU -> maxpool 2 -> conv(c1, c2) -> ReLU -> flatten ->
    hidden... -> n_classes`` logits. Grad-CAM weighs the second convolution, whose maps are
    ``(H // 2) x (W // 2)``: each cell covers a 2x2 block of pixels (for sklearn's 8x8 digits,
    4x4 cells, as coarse relative to the image as the paper's 8x8 maps of 32x32 CIFAR-10
    images). Defined at module level so that a fitted classifier pickles it by reference.
    """

    def __init__(self, image_shape, n_classes, hidden_layer_sizes=(64,), channels=(16, 32)):
        super().__init__()
        c, h, w = image_shape
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(c, channels[0], 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2, ceil_mode=True),
            torch.nn.Conv2d(channels[0], channels[1], 3, padding=1),
            torch.nn.ReLU(),
        )
        width = channels[1] * ((h + 1) // 2) * ((w + 1) // 2)
        layers = [torch.nn.Flatten()]
        for units in hidden_layer_sizes:
            layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
            width = units
        layers.append(torch.nn.Linear(width, n_classes))
        self.head = torch.nn.Sequential(*layers)

    def forward(self, images):
        return self.head(self.features(images))


class FlatInput(torch.nn.Module):
    """``network`` fed with flat rows ``(n, C H W)`` reshaped to images ``(n, C, H, W)``.

    scikit-learn passes two-dimensional ``X``; this view lets the metrics, the soft curves and
    the explainers treat an image network like any other.
    """

    def __init__(self, network, image_shape):
        super().__init__()
        self.network = network
        self.image_shape = tuple(image_shape)

    def forward(self, rows):
        return self.network(rows.reshape(rows.shape[0], *self.image_shape))
