#!/usr/bin/env bash
# Installs what building and testing `pattern` needs on a fresh Debian machine with the
# Swift toolchain. Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(
  libyaml-dev            # YAML parsing (CYAML shim)
  libcurl4-openssl-dev   # Kubernetes API transport (CCurl shim)
  libgit2-dev            # git sources (CGit2 shim)
  libssl-dev             # TLS for the test API server (CTestTLS shim), commit signatures (CCrypto shim)
  pkg-config
  openssl                # tests generate a CA and certificates
  git                    # tests build real repositories and run `git daemon`
  openssh-client         # tests make SSH keys and sign commits (ssh-keygen -Y sign)
  gnupg                  # tests make OpenPGP keys and sign commits (gpg)
  python3-yaml           # benchmark corpus generator
  zlib1g-dev             # gzip for Helm chart archives (CZlib shim)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: system packages present"
fi

# git daemon lives in git-daemon-run on some systems; Debian's `git` package ships it.
git daemon --help >/dev/null 2>&1 || { echo "setup: 'git daemon' is not available" >&2; exit 1; }
