module virtfleet.io/guest-tools/virtfleet-guest-forward

go 1.21
