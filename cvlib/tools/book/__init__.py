"""The tools of the website and its notebooks: building, converting, publishing.

- :mod:`.build_book` (``make book``): the strict build and the chapters' execution times;
- the Sphinx extensions ``_config.yml`` lists: :mod:`.site_notebooks` (an ``.ipynb`` of every
  page, opened on Colab and Kaggle) and :mod:`.site_accessibility`;
- what those notebooks are made of: :mod:`.notebooks`, :mod:`.myst_markdown` (MyST to the
  Markdown Jupyter renders), :mod:`.myst_nb_stand_in` (``glue`` without myst-nb);
- :mod:`.publish_notebooks`: the notebooks' branch, where Colab and Kaggle find them.
"""
