import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ABOUT = {}
with open(os.path.join(HERE, "protocol", "version.py")) as fh:
    exec(fh.read(), ABOUT)       # the one place the release is written

setup(
    name="branchline",
    version=ABOUT["VERSION"],
    description="Offline-first point-of-sale backend: an edge server per branch, "
                "replicating to a cloud node.",
    python_requires=">=3.11",
    packages=find_packages(include=["protocol", "protocol.*", "sync", "sync.*",
                                    "edge", "edge.*", "cloud", "cloud.*"]),
    install_requires=[
        "tornado>=6.4",
        "peewee>=4.5",
        "pyjwt>=2.8",
        "pynacl>=1.5",          # Ed25519 (protocol/ed25519.py)
        "cryptography>=42",     # X.509 and P-256 (edge/certificate.py, cloud/webpush.py)
        "zeroconf>=0.132",
        "ifaddr>=0.2",
        "pywebpush>=2.0",
        "google-auth>=2.29",
        "aiohttp>=3.9",
        "pydantic>=2.7",
        "email-validator>=2.1",
        "phonenumbers>=8.13",
        "pycountry>=24.6",
        "orjson>=3.10",
    ],
    extras_require={
        "postgres": ["psycopg2-binary>=2.9.9"],
        "redis": ["redis>=5.0"],      # realtime across the cloud's processes (redis_url)
        "test": ["pytest>=8", "pytest-asyncio>=0.24", "pytest-timeout>=2.3", "pytest-xdist>=3.6",
                 "schemathesis>=4.0", "http-ece>=1.2"],
    },
    entry_points={
        "console_scripts": [
            "branchline-edge=edge.launch:main",
            "branchline-cloud=cloud.server:main",
            "branchline-demo=cloud.demo:main",
            "branchline=edge.discover:main",
        ],
    },
)
