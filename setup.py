import importlib.util
import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPyWithCatalogs(build_py):
    """Compile the gettext catalogs (.po -> .mo) before the package's files are collected.

    pyramid_jobs/msgfmt.py is loaded by path: nothing of the package (or its dependencies) is
    importable while it is being built."""

    def run(self):
        spec = importlib.util.spec_from_file_location("_pyramid_jobs_msgfmt",
                                                      os.path.join(HERE, "pyramid_jobs", "msgfmt.py"))
        msgfmt = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(msgfmt)
        msgfmt.compile_all()
        super().run()


with open("README.md", encoding="utf-8") as f:
    long_description = f.read()

requires = [
    "pyramid>=2.0",
    "pyramid_jinja2>=2.10",
    "plaster_pastedeploy",
    "waitress>=3.0",
    "celery[redis]>=5.5,<6",
    "kombu>=5.5,<6",
    "sqlalchemy>=2.0",
    "redis>=5.0",
    "pluggy>=1.5",
    "charset-normalizer>=3.3",
    "jieba>=0.42",  # Chinese word segmentation (processors/words.py), imported only by workers
    "pypdf[crypto]>=6.16.1",
    "pypdfium2>=4.30",
    "python-docx>=1.1",
    "olefile>=0.47",
    "pandas>=2.2",
    "openpyxl>=3.1",
    "defusedxml>=0.7",
    "python-calamine>=0.2",
    "tqdm>=4.66",
    "prometheus_client>=0.20",
    "multipart>=1.2",
    "markdown-it-py>=3.0",  # the job page's preview of text.md, rendered on the server
    # Pyramid 2.1 imports pkg_resources (asset specs, static views); setuptools 80.9 and later warn
    # about it on every start of pserve, celery and pjobs, and 82 removes it. 80.8 is the last that
    # ships it without the warning.
    "setuptools>=68,<80.9",
    "Pillow>=11.0",
    "tesserocr>=2.7",
]

postgresql = ["psycopg[binary]>=3.1"]

testing = [
    *postgresql,
    "pytest>=8",
    "pytest-timeout>=2.3",
    "webtest>=3.0",
    "playwright>=1.45",
    "ruff>=0.6",
    "pyramid_tm>=2.5",
    "jsonschema>=4.20",
    "schemathesis>=4.0",
    "flask>=3.0",
    "django>=5.0",
    "fastapi>=0.110",
    "a2wsgi>=1.10",
    "httpx>=0.27",
    "flower>=2.0",
    "tornado>=6.3",
    "markitdown[docx]>=0.1",
    "xlwt>=1.3",  # writes the xls test workbooks (shared strings split over CONTINUE records)
]

setup(
    name="pyramid_jobs",
    version="0.1.0",
    description="A Pyramid add-on that turns an application into a file-processing service run by Celery workers.",
    long_description=long_description,
    long_description_content_type="text/markdown",
    classifiers=[
        "Framework :: Pyramid",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
    ],
    license="MIT",
    python_requires=">=3.11",
    packages=find_packages(include=["pyramid_jobs", "pyramid_jobs.*", "processors", "processors.*"]),
    include_package_data=True,
    package_data={"pyramid_jobs": ["locale/*/LC_MESSAGES/*.mo", "locale/*/LC_MESSAGES/*.po"]},
    cmdclass={"build_py": BuildPyWithCatalogs},
    zip_safe=False,
    install_requires=requires,
    extras_require={"testing": testing, "postgresql": postgresql},
    entry_points={
        "paste.app_factory": ["main = pyramid_jobs.app:main", "jobs = pyramid_jobs:make_app"],
        "console_scripts": ["pjobs = pyramid_jobs.scripts.pjobs:main"],
        "pyramid_jobs": [
            "txt = processors.txt",
            "pdf = processors.pdf",
            "docx = processors.docx",
            "doc = processors.doc",
            "csv = processors.csv",
            "xlsx = processors.xlsx",
            "image = processors.image",
        ],
    },
)
