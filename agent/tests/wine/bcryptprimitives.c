/* Wine 8 lacks bcryptprimitives.dll, which Rust's standard library on Windows 10+ imports
   for ProcessPrng. This stand-in, placed only in the test's Wine prefix, draws the same
   bytes from RtlGenRandom (advapi32 SystemFunction036), which Wine implements. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
