#ifndef IGMEDIA_CFASTCGI_SHIM_H
#define IGMEDIA_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#include <fcgios.h>
#endif
