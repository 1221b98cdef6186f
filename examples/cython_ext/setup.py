"""Builds the cython_ext module in place: python setup.py build_ext --inplace
(Cython finds optkern/capi.pxd in the installed optkern package, the C
compiler optkern's headers in optkern.get_include())."""

from Cython.Build import cythonize
from setuptools import Extension, setup

import optkern

setup(name="cython_ext",
      ext_modules=cythonize(Extension("cython_ext", ["cython_ext.pyx"], include_dirs=[optkern.get_include()])))
