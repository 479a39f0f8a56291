#!/usr/bin/env bash
# Debian packages the corpus recipe needs (run as root, or with sudo). All from Debian main.
#   engines:  espeak-ng, flite, festival + voices (kal, ked, slt-hts), sox/flac for conversion
#   texts:    R packages that ship public-domain books and the Harvard sentences, WordNet
# Why R: janeaustenr/tokenizers/stringr are the only Debian packages we found that carry
# modern-ish public-domain English prose; build.mjs calls Rscript once to dump them to text.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
  espeak-ng flite festival festlex-cmu festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts \
  sox libsox-fmt-base flac \
  r-base-core r-cran-janeaustenr r-cran-tokenizers r-cran-stringr wordnet-base
