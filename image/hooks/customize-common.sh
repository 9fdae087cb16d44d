#!/bin/sh
# Runs inside the new root (chroot) after the packages are installed.
set -eu
# machine-id: empty, so every boot (and every unit) gets a fresh transient
# one on the read-only root, and no two appliances share one.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -sf /etc/machine-id /var/lib/dbus/machine-id
systemctl enable systemd-networkd.service systemd-resolved.service
ln -sf /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
# No login prompt on the screen or the serial line: the appliance has no
# local users to log in as. The serial console still shows the boot and
# the logs (journald forwards them).
systemctl mask getty@tty1.service serial-getty@ttyS0.service \
    console-getty.service getty.target
systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
    fstrim.timer 2>/dev/null || true
# No root password and no shell for root over anything.
passwd -l root
mkdir -p /boot/efi /data
# The initramfs needs what the root lives on; nothing else.
rm -f /etc/kernel/postinst.d/zz-update-grub
