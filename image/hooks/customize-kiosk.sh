#!/bin/sh
set -eu
groupadd --system kiosk-dev
useradd --system --home-dir /data/kiosk --no-create-home --shell /usr/sbin/nologin \
    --user-group --groups kiosk-dev,video,input,render,audio kiosk
chmod 0755 /usr/bin/kiosk /usr/bin/kioskctl /usr/lib/kiosk/provision
systemctl enable kiosk.service kiosk-provision.service kiosk-healthy.service \
    systemd-timesyncd.service pcscd.socket rauc.service
systemctl set-default multi-user.target
