"""A compact U-Net, trained from scratch (no pretrained encoder, nothing downloaded).

``depth`` levels of two 3x3 conv + GroupNorm + ReLU blocks, ``width`` channels at full
resolution doubling at each 2x max-pool, transposed-conv upsampling with skip connections and
a 1x1 head giving one logit map per class. GroupNorm (not BatchNorm) so that a model trained
for a few hundred steps with small batches predicts at test time exactly as it trained (no
running statistics to lag behind). width 16, depth 4: 0.48 M parameters.

Inputs must have sides divisible by ``2 ** (depth - 1)``; ``studio train`` resizes to
``--size`` (256 by default), which is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the network (saved in model.pt with the weights)."""

    classes: int = 2
    width: int = 16
    depth: int = 4
    in_channels: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this."""
        return 2 ** (self.depth - 1)


def _norm(channels: int) -> nn.GroupNorm:
    groups = max(1, min(8, channels // 4))
    while channels % groups:
        groups -= 1
    return nn.GroupNorm(groups, channels)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        _norm(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        _norm(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """The segmentation network: (N, 3, H, W) floats in [0, 1] -> (N, classes, H, W) logits."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.depth < 1 or config.width < 1 or config.classes < 2:
            raise ValueError(f"bad model config {config}")
        self.config = config
        widths = [config.width * 2**i for i in range(config.depth)]
        self.down = nn.ModuleList()
        cin = config.in_channels
        for w in widths:
            self.down.append(_block(cin, w))
            cin = w
        self.up = nn.ModuleList()
        self.decode = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(cin, w, 2, stride=2))
            self.decode.append(_block(2 * w, w))
            cin = w
        self.head = nn.Conv2d(cin, config.classes, 1)
        # inputs in [0, 1]: centre them once here, so callers pass plain images
        self.register_buffer("mean", torch.full((1, config.in_channels, 1, 1), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = self.config.multiple
        if h % m or w % m:
            raise ValueError(f"input {w}x{h}: sides must be multiples of {m}")
        x = (x - self.mean) * 2
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for up, block, skip in zip(self.up, self.decode, reversed(skips[:-1]), strict=True):
            x = block(torch.cat([up(x), skip], dim=1))
        return self.head(x)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
