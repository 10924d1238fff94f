#!/usr/bin/python3
"""Python baselines for bench_round_trip: createAPIAccessToken calls/s with `requests`.

(c) The Alation documentation's snippet: `requests.post(url, json={...})` per call, a new
    connection each time, the token read with `response.json()["api_access_token"]`.
(d) The same through one `requests.Session` (keep-alive).

Run against a running fake_alation_server (examples/), which prints its base URL:

    baseline_requests.py BASE_URL [--ca-file PEM] [--user NAME:PASSWORD] [--smoke]

It creates a refresh token for the user first (createRefreshToken), then measures both figures
alternately, several repetitions each after a warm-up, and prints median and min calls/s in the
same table format as the C++ programs.
"""
import argparse
import statistics
import sys
import time

import requests


def measure(call, seconds):
    """Calls `call` for about `seconds`; returns calls per second."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        call()
        calls += 1
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--ca-file", help="PEM file of the CA to trust (https)")
    parser.add_argument("--user", default="demo:demo-password", help="NAME:PASSWORD")
    parser.add_argument("--smoke", action="store_true", help="about 0.2 s per figure")
    args = parser.parse_args()

    verify = args.ca_file if args.ca_file else True
    username, _, password = args.user.partition(":")
    base = args.base_url.rstrip("/")
    created = requests.post(base + "/integration/v1/createRefreshToken/", verify=verify,
                            json={"username": username, "password": password, "name": "baseline"})
    created.raise_for_status()
    refresh = created.json()
    url = base + "/integration/v1/createAPIAccessToken/"
    payload = {"refresh_token": refresh["refresh_token"], "user_id": refresh["user_id"]}
    checksum = 0

    def docs_snippet():
        nonlocal checksum
        response = requests.post(url, json=payload, verify=verify)
        response.raise_for_status()
        checksum += len(response.json()["api_access_token"])

    session = requests.Session()

    def with_session():
        nonlocal checksum
        # verify per call: REQUESTS_CA_BUNDLE in the environment would override Session.verify.
        response = session.post(url, json=payload, verify=verify)
        response.raise_for_status()
        checksum += len(response.json()["api_access_token"])

    repetitions, seconds = (3, 0.05) if args.smoke else (7, 0.5)
    figures = [("(c) requests.post per call (docs snippet, new connection)", docs_snippet),
               ("(d) requests.Session (keep-alive)", with_session)]
    for _, call in figures:  # warm-up
        measure(call, seconds / 2)
    samples = {name: [] for name, _ in figures}
    for _ in range(repetitions):
        for name, call in figures:
            samples[name].append(measure(call, seconds))
    if checksum == 0:
        sys.exit("no token was read")

    transport = "TLS" if base.startswith("https") else "plain HTTP"
    print(f"\n## baseline_requests.py: createAPIAccessToken over {transport}, Python "
          f"{sys.version.split()[0]}, requests {requests.__version__} (calls/s; min = slowest repetition)\n")
    print("| figure | median | min | unit | target | verdict |")
    print("|---|---:|---:|---|---|---|")
    for name, _ in figures:
        print(f"| {name} | {statistics.median(samples[name]):.0f} | {min(samples[name]):.0f} | calls/s |  |  |")


if __name__ == "__main__":
    main()
