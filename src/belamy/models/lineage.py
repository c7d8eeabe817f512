"""Whom each model owes: the papers it implements and the reference code it was written after.

One table for every place that credits them: the model card of a run and the provenance record
of an artwork. belamy's models are its own code (Apache-2.0); `UPSTREAM` names the reference
implementations of the same algorithms, with their licences, because the authors of the code an
artwork's method comes from have a claim to be named (the 2018 auction portrait's makers were
reproached for not naming theirs). No code of theirs is copied into belamy.
"""

from __future__ import annotations

from typing import Any

PAPERS: dict[str, dict[str, Any]] = {
    "gan": {"authors": "I. Goodfellow et al.", "title": "Generative Adversarial Nets", "year": 2014},
    "dcgan": {"authors": "A. Radford, L. Metz, S. Chintala",
              "title": "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks",
              "short": "DCGAN", "year": 2015},
    "stylegan2": {"authors": "T. Karras, S. Laine, M. Aittala, J. Hellsten, J. Lehtinen, T. Aila",
                  "title": "Analyzing and Improving the Image Quality of StyleGAN", "short": "StyleGAN2", "year": 2020},
    "fastgan": {"authors": "B. Liu, Y. Zhu, K. Song, A. Elgammal",
                "title": "Towards Faster and Stabilized GAN Training for High-fidelity Few-shot Image Synthesis",
                "short": "FastGAN", "year": 2021},
    "pix2pix": {"authors": "P. Isola, J.-Y. Zhu, T. Zhou, A. A. Efros",
                "title": "Image-to-Image Translation with Conditional Adversarial Networks", "short": "pix2pix",
                "year": 2017},
    "ada": {"authors": "T. Karras, M. Aittala, J. Hellsten, S. Laine, J. Lehtinen, T. Aila",
            "title": "Training Generative Adversarial Networks with Limited Data", "short": "ADA", "year": 2020},
    "diffaug": {"authors": "S. Zhao, Z. Liu, J. Lin, J.-Y. Zhu, S. Han",
                "title": "Differentiable Augmentation for Data-Efficient GAN Training", "short": "DiffAugment",
                "year": 2020},
    "r1": {"authors": "L. Mescheder, A. Geiger, S. Nowozin",
           "title": "Which Training Methods for GANs do actually Converge?", "short": "R1", "year": 2018},
    "ema": {"authors": "T. Karras, T. Aila, S. Laine, J. Lehtinen", "title": "Progressive Growing of GANs",
            "short": "EMA generator", "year": 2018},
    "esrgan": {"authors": "X. Wang, K. Yu, S. Wu, J. Gu, Y. Liu, C. Dong, C. C. Loy, Y. Qiao, X. Tang",
               "title": "ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks", "short": "ESRGAN",
               "year": 2018},
    "realesrgan": {"authors": "X. Wang, L. Xie, C. Dong, Y. Shan",
                   "title": "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure Synthetic Data",
                   "short": "Real-ESRGAN", "year": 2021},
    "spectralnorm": {"authors": "T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida",
                     "title": "Spectral Normalization for Generative Adversarial Networks", "short": "spectral norm",
                     "year": 2018},
}

# model -> the papers it implements, first the model's own
MODEL_PAPERS = {"dcgan": ["dcgan"], "stylegan2": ["stylegan2"], "fastgan": ["fastgan", "stylegan2"],
                "pix2pix": ["pix2pix"], "srvgg": ["realesrgan", "spectralnorm"],
                "rrdb": ["esrgan", "realesrgan", "spectralnorm"]}
ROLE_NOTE = {("fastgan", "stylegan2"): "the mapping network and modulated convolutions",
             ("srvgg", "realesrgan"): "the compact SRVGG net, degradations, U-Net D",
             ("rrdb", "realesrgan"): "degradations, U-Net D"}

_STYLEGAN2_ADA = {"name": "stylegan2-ada-pytorch", "url": "https://github.com/NVlabs/stylegan2-ada-pytorch",
                  "authors": "NVIDIA Corporation", "license": "LicenseRef-NVIDIA-Source-Code-License"}

_REAL_ESRGAN = {"name": "Real-ESRGAN", "url": "https://github.com/xinntao/Real-ESRGAN", "authors": "Xintao Wang",
                "license": "BSD-3-Clause", "role": "the paper's reference implementation"}
_BASICSR = {"name": "BasicSR", "url": "https://github.com/XPixelGroup/BasicSR", "authors": "Xintao Wang et al.",
            "license": "Apache-2.0", "role": "the toolbox Real-ESRGAN and ESRGAN's reference code live in"}

UPSTREAM: dict[str, list[dict[str, str]]] = {
    "dcgan": [
        {"name": "dcgan_code", "url": "https://github.com/Newmu/dcgan_code", "authors": "Alec Radford",
         "license": "MIT", "role": "the paper's reference implementation"},
        {"name": "pytorch/examples dcgan", "url": "https://github.com/pytorch/examples/tree/main/dcgan",
         "authors": "PyTorch contributors", "license": "BSD-3-Clause", "role": "the PyTorch port belamy's DCGAN follows"},
    ],
    "stylegan2": [{**_STYLEGAN2_ADA, "role": "the papers' reference implementation (StyleGAN2, ADA)"}],
    "fastgan": [
        {"name": "FastGAN-pytorch", "url": "https://github.com/odegeasslbc/FastGAN-pytorch", "authors": "Bingchen Liu",
         "license": "GPL-3.0-only", "role": "the paper's reference implementation"},
        {**_STYLEGAN2_ADA, "role": "reference for the mapping network and modulated convolutions"},
    ],
    "pix2pix": [
        {"name": "pix2pix", "url": "https://github.com/phillipi/pix2pix", "authors": "Phillip Isola",
         "license": "BSD-3-Clause", "role": "the paper's reference implementation (Torch)"},
        {"name": "pytorch-CycleGAN-and-pix2pix", "url": "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
         "authors": "Jun-Yan Zhu, Taesung Park", "license": "BSD-3-Clause", "role": "the authors' PyTorch port"},
    ],
    "srvgg": [_REAL_ESRGAN, _BASICSR],
    "rrdb": [_REAL_ESRGAN, _BASICSR],
}

BELAMY_CODE = {"name": "belamy", "url": "https://github.com/belamy-art/belamy", "authors": "the belamy authors",
               "license": "Apache-2.0"}


def cite(key: str, note: str | None = None) -> str:
    """A paper as one markdown line: authors, *title* (short name[: note]), year."""
    p = PAPERS[key]
    short = p.get("short")
    label = f"{short}: {note}" if short and note else short or note
    return f"{p['authors']}. *{p['title']}*" + (f" ({label})" if label else "") + f", {p['year']}."


def paper_keys(model: str, augment: str | None = None, r1: bool = False, ema: bool = False) -> list[str]:
    """Every paper a run of `model` with these techniques owes, the GAN paper first."""
    keys = ["gan", *MODEL_PAPERS.get(model, [])]
    if augment in PAPERS:
        keys.append(augment)
    if r1:
        keys.append("r1")
    if ema:
        keys.append("ema")
    return keys


def model_citations(model: str, **techniques: Any) -> list[str]:
    """The papers of `paper_keys`, one markdown line each (what a model card lists)."""
    return [cite(k, ROLE_NOTE.get((model, k))) for k in paper_keys(model, **techniques)]
