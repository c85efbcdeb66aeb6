"""The default network of :class:`IDExpOClassifier`: an MLP with ReLU hidden layers."""

import torch

__all__ = ["MLP"]


class MLP(torch.nn.Sequential):
    """Fully connected ReLU network ``n_features -> hidden... -> n_classes`` (logits).

    Yoshikawa & Iwata (2024, Appendix C.2) use two hidden layers of 256 units on tabular data.
    Defined at module level so that a fitted classifier pickles the network by reference.
    """

    def __init__(self, n_features, n_classes, hidden_layer_sizes=(256, 256)):
        layers = []
        width = n_features
        for units in hidden_layer_sizes:
            layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
            width = units
        layers.append(torch.nn.Linear(width, n_classes))
        super().__init__(*layers)
