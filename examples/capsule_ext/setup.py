"""Builds the capsule_ext module in place: python setup.py build_ext --inplace
(optkern.get_include() is where the installed optkern keeps its headers)."""

from setuptools import Extension, setup

import optkern

setup(name="capsule_ext",
      ext_modules=[Extension("capsule_ext", ["capsule_ext.c"], include_dirs=[optkern.get_include()])])
