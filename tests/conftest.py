import pytest

def pytest_addoption(parser):
    parser.addoption('--flags', default='', help='notebook test flags to run, e.g. "cuda slow" (as nbdev_test --flags)')
