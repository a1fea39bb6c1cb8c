// SPDX-License-Identifier: MIT
// A consumer built with nothing but `pkg-config --cflags --libs oxide-blight-transport`
// on the compiler's default standard: the C++20 headers compile only if Cflags says so.
#include <BlightTransport/protocol.h>
#include <BlightTransport/version.h>

#include <cstdio>
#include <cstring>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: blight-pkgconfig-consumer <pkg-config --modversion>\n");
        return 1;
    }
    if (std::strcmp(argv[1], BLIGHTTRANSPORT_VERSION_STR) != 0) {
        std::fprintf(stderr, "version.h says %s, pkg-config %s\n", BLIGHTTRANSPORT_VERSION_STR, argv[1]);
        return 1;
    }
    // A call into the library and a round trip through the header-only codec.
    Blight::RepaintPayload repaint;
    repaint.marker = 7;
    repaint.identifier = 3;
    const std::optional<Blight::RepaintPayload> back = Blight::decode<Blight::RepaintPayload>(Blight::encode(repaint));
    const QString name = Blight::typeName(qint32(Blight::MessageType::Repaint));
    if (!back || back->marker != 7 || back->identifier != 3 || name != QLatin1String("repaint")) {
        std::fprintf(stderr, "codec round trip failed (type name \"%s\")\n", qPrintable(name));
        return 1;
    }
    std::printf("pkg-config consumer of %s: ok\n", BLIGHTTRANSPORT_VERSION_STR);
    return 0;
}
