"""Prints the directory the convpool package installs into for the prefix
given as argv[1] (any prefix but /usr, which meson's own layout handles).

Debian's python3 imports from <prefix>/lib/python3.X/dist-packages for
/usr/local (its 'posix_local' layout) but not from meson's default for that
prefix, /usr/local/lib/python3/dist-packages; other systems use
<prefix>/lib/python3.X/site-packages ('posix_prefix')."""
import sys
import sysconfig

prefix = sys.argv[1]
if "deb_system" in sysconfig.get_scheme_names():
    print("%s/lib/python%d.%d/dist-packages" % ((prefix,) + sys.version_info[:2]))
else:
    base = {"base": prefix, "platbase": prefix, "installed_base": prefix,
            "installed_platbase": prefix}
    print(sysconfig.get_path("purelib", "posix_prefix", vars=base))
