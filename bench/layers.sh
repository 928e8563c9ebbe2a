#!/usr/bin/env bash
# The layer benchmarks (README, Benchmarks): the s5-biglayer scenario of
# ../shared/bench run through strata's sandbox over an overlay snapshot of a
# Debian minbase base, its commit and exports, and the unpack of the base.
# Needs root. The base tree: $STRATA_BENCH_ROOTFS, /var/tmp/bookworm-rootfs,
# or a cached debootstrap (see strata_test::debian_rootfs).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p strata-snapshot --bench s5_biglayer "$@"
