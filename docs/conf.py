"""Sphinx configuration of the ibkit documentation (built by ``make docs``).

Sphinx rather than MkDocs: the docstrings are numpydoc with ``:math:`` roles and
cross-references, which Sphinx (autodoc, autosummary, numpydoc) renders as they are;
sphinx-gallery runs the tutorials at build time; myst-parser lets the guide be markdown.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The tutorials run inside this process: one thread each for BLAS and torch, as on the
# 2-core machines the project is developed on, and no window for matplotlib.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import ibkit  # noqa: E402

project = "ibkit"
author = "the ibkit authors"
copyright = "the ibkit authors"  # noqa: A001
release = ibkit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "bench_tables",
    "plain_bars",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "tutorials/README.txt", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]
html_static_path = []

# --- API reference: one page per public module, one per object in its __all__
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# --- markdown pages
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- executed tutorials
sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "tutorials_gallery",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
}

# --- HTML
html_theme = "alabaster"
html_title = f"ibkit {release}"
html_theme_options = {
    "description": "The Information Bottleneck toolkit",
    "fixed_sidebar": True,
    "page_width": "1180px",
    "sidebar_width": "250px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
