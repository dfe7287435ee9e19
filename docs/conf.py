# Sphinx configuration of lungseg's docs site. Built by `make docs` (tools/build_docs.py), which writes
# the processed notebooks (nbdev.serve.proc_nbs) to _proc/docs/ and the site to _site/. myst-nb executes nothing.
import lungseg

project = 'lungseg'
author = 'lungseg maintainers'
copyright = 'lungseg maintainers'
release = version = lungseg.__version__

extensions = ['myst_nb', 'sphinx.ext.githubpages']
templates_path = ['_templates']  # resolved relative to this folder (sphinx -c docs)
exclude_patterns = ['_build', '**.ipynb_checkpoints']

nb_execution_mode = 'off'            # stored outputs only
nb_render_markdown_format = 'myst'   # show_doc's markdown output (tables, headings)
nb_merge_streams = True
myst_enable_extensions = ['colon_fence', 'dollarmath', 'attrs_inline', 'smartquotes']
myst_heading_anchors = 4
myst_all_links_external = True  # links are to the built pages (`data.html#name`), as nbdev writes them
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type', 'misc.highlighting_failure']

html_theme = 'pydata_sphinx_theme'
html_title = 'lungseg'
html_show_sourcelink = False
html_copy_source = False
html_sidebars = {'**': ['sitenav.html']}
html_theme_options = {
    'github_url': 'https://github.com/lungseg/lungseg',
    'header_links_before_dropdown': 6,
    'navigation_with_keys': False,
    'show_toc_level': 2,
    'secondary_sidebar_items': ['page-toc'],
    'footer_start': ['copyright'], 'footer_end': [],
}
html_static_path = ['_static']
html_css_files = ['lungseg.css']
