"""Recognising a keras.applications base (MobileNetV2, ResNet50, ...) in a saved config, with the preprocessing
its `preprocess_input` documents, so a transfer-learning file gets its pixels the way it was trained.

Recognised by the (nested) model's name or by layer names characteristic of each family, only where the base
is the model's front end (nothing with weights before it). Imports without TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .preprocessing import IMAGENET_CAFFE, IMAGENET_TORCH, RAW_0_255, SCALE_MINUS1_1, PreprocessingSpec
from .scaling import config_layers

_MODEL_CLASSES = {"Sequential", "Functional", "Model"}
_WEIGHT_KEYS = ("filters", "units", "kernel_size", "depth_multiplier", "output_dim")

# keras.applications' preprocess_input mode per family (imagenet_utils: "tf", "caffe", "torch"); families
# with their preprocessing inside the model ("inside") expect the second spec when it was left out
# (include_preprocessing=False).
_MODES = {"tf": (SCALE_MINUS1_1, "x/127.5 − 1"), "caffe": (IMAGENET_CAFFE, "BGR, ImageNet mean subtracted"),
          "torch": (IMAGENET_TORCH, "x/255, then ImageNet mean/std")}


@dataclass(frozen=True)
class _Family:
    title: str
    mode: str  # "tf", "caffe", "torch", or "inside"
    name: str  # regex on the model's name
    layers: tuple[str, ...]  # layer names that together mark the family (all must be present)
    without_preprocessing: str = ""  # the mode an "inside" family needs when its preprocessing was left out


# Most specific first where families share layer names: MobileNetV3 before V2, ResNetV2 before ResNet,
# EfficientNet (its first block has a depthwise conv) before EfficientNetV2 (fused first blocks).
FAMILIES = (
    _Family("MobileNetV3", "inside", r"^mobilenetv3", ("expanded_conv_squeeze_excite_conv",), "tf"),
    _Family("MobileNetV3", "inside", r"^mobilenetv3", ("expanded_conv_depthwise", "conv_bn", "expanded_conv_project_bn"),
            "tf"),
    _Family("MobileNetV2", "tf", r"^mobilenetv2", ("bn_Conv1", "expanded_conv_project")),
    _Family("MobileNet", "tf", r"^mobilenet_\d", ("conv_dw_1", "conv_pw_1")),
    _Family("ResNetV2", "tf", r"^resnet\d+v2$", ("conv2_block1_preact_bn", "post_bn")),
    _Family("ResNet", "caffe", r"^resnet\d+$", ("conv1_conv", "conv2_block1_0_conv", "conv2_block1_add")),
    _Family("EfficientNet", "inside", r"^efficientnetb\d", ("stem_conv", "block1a_dwconv"), "tf"),
    _Family("EfficientNetV2", "inside", r"^efficientnetv2", ("stem_conv", "block1a_project_conv"), "tf"),
    _Family("DenseNet", "torch", r"^densenet\d+$", ("pool2_conv",)),
    _Family("DenseNet", "torch", r"^densenet\d+$", ("conv1/conv", "pool2_conv")),
    _Family("VGG", "caffe", r"^vgg(16|19)$", ("block1_conv1", "block1_pool", "block5_conv3")),
    _Family("Xception", "tf", r"^xception$", ("block1_conv1_bn", "block2_sepconv1", "block14_sepconv1")),
    _Family("InceptionResNetV2", "tf", r"^inception_resnet_v2$", ("mixed_5b", "block35_1")),
    _Family("InceptionV3", "tf", r"^inception_v3$", ("mixed0", "mixed1", "mixed10")),
    _Family("NASNet", "tf", r"^nasnet", ("stem_conv1", "stem_bn1", "reduction_conv_1_stem_1")),
    _Family("ConvNeXt", "inside", r"^convnext_", (), "torch"),
    _Family("RegNet", "inside", r"^regnet[xy]\d+$", (), "torch"),
)


@dataclass(frozen=True)
class RecognisedBase:
    family: str
    spec: PreprocessingSpec
    reason: str


def recognise_application(config: Any) -> RecognisedBase | None:
    """The keras.applications base at the front of a model config (at top level or nested), or None."""
    if not isinstance(config, dict):
        return None
    for candidate in _front_models(config, depth=0):
        found = _match(candidate)
        if found is not None:
            return found
    return None



def _front_models(config: dict, depth: int) -> list[dict]:
    """This model and the nested models met before the first layer with weights (a base at the front)."""
    found = [config]
    if depth > 8:
        return found
    for layer in config_layers(config):
        if not isinstance(layer, dict):
            continue
        cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        if layer.get("class_name") in _MODEL_CLASSES:
            return found + _front_models(layer, depth + 1)
        if any(key in cfg for key in _WEIGHT_KEYS):
            break
    return found


def _name(config: dict) -> str:
    cfg = config.get("config") if isinstance(config.get("config"), dict) else {}
    return str(cfg.get("name") or config.get("name") or "")


def _layer_names(config: dict) -> set[str]:
    names = set()
    for layer in config_layers(config):
        if isinstance(layer, dict):
            cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
            names.add(str(cfg.get("name") or layer.get("name") or ""))
    return names


def _has_preprocessing_layer(config: dict) -> bool:
    """A Rescaling or Normalization layer among the base's first layers (include_preprocessing=True)."""
    for layer in config_layers(config)[:4]:
        if isinstance(layer, dict) and layer.get("class_name") in ("Rescaling", "Normalization"):
            return True
    return False


def _match(config: dict) -> RecognisedBase | None:
    name, names = _name(config), _layer_names(config)
    for family in FAMILIES:
        by_name = re.match(family.name, name, re.IGNORECASE) is not None
        by_layers = bool(family.layers) and all(n in names for n in family.layers)
        if not (by_name or by_layers):
            continue
        mode = family.mode
        if mode == "inside":
            if _has_preprocessing_layer(config) or any(
                    n.endswith(("_prestem_normalization", "_prestem_rescaling")) for n in names):
                return RecognisedBase(family.title, RAW_0_255,
                                      f"recognised {family.title} base: its preprocessing is inside the model, "
                                      "so it gets raw pixels 0..255")
            mode = family.without_preprocessing
        spec, formula = _MODES[mode]
        return RecognisedBase(family.title, spec,
                              f"recognised {family.title} base: keras.applications' '{mode}' preprocessing, {formula}")
    return None
