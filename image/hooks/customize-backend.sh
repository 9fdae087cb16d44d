#!/bin/sh
set -eu
useradd --system --home-dir /var/lib/backend --no-create-home --shell /usr/sbin/nologin \
    --user-group backend
chmod 0755 /usr/bin/backend
install -d /var/lib/backend /var/backups/backend
systemctl enable backend.service backend-backup.timer chrony.service
systemctl set-default multi-user.target
