"""Recipes: the road of each well-known GAN work walked end to end on the built-in demo data.

`belamy recipe NAME -o DIR` runs one; `RECIPES` names them, each module builds its `Recipe`.
This layer sits between the CLI and the studio (a recipe may open the studio, or use its taste
model to rank renders), and calls the library below like any user would.
"""

from __future__ import annotations

import importlib

from belamy.core.errors import BelamyError
from belamy.recipes.base import Recipe, RecipeResult, run_recipe

# name -> (module, one line on the work it follows)
RECIPES: dict[str, tuple[str, str]] = {
    "belamy-family": ("belamy.recipes.belamy_family",
                      "a DCGAN-style portrait family of 11, one printed and signed with the GAN loss formula"),
    "butchers-son": ("belamy.recipes.butchers_son",
                     "poses -> stick figures -> pix2pix -> super-resolution, thousands of renders, 20 picked"),
    "instantiation": ("belamy.recipes.instantiation",
                      "a self-portrait learned from one sitter, a 12 s morph, a brush layer, an NFT sold"),
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise BelamyError(f"unknown recipe {name!r}: choose one of {', '.join(RECIPES)}")
    return importlib.import_module(RECIPES[name][0]).build()


__all__ = ["RECIPES", "Recipe", "RecipeResult", "get_recipe", "run_recipe"]
