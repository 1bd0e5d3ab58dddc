{
  "targets": [
    {
      "target_name": "msnl_tun",
      "sources": ["src/tun/native/tun.cc", "src/tun/native/ifconfig.cc", "src/tun/native/netlink.cc", "src/tun/native/udp.cc", "src/tun/native/udp-msgs.cc", "src/tun/native/udp-set.cc", "src/tun/native/pmtu.cc", "src/tun/native/poll.cc", "src/tun/native/notify.cc", "src/tun/native/aead.cc", "src/tun/native/uring.cc", "src/tun/native/aead-segments.cc", "src/tun/native/copy-runs.cc", "src/tun/native/x25519.cc", "src/tun/native/hkdf.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra"],
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
