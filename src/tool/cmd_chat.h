/* `sockctl chat serve` and `sockctl chat connect`, dispatched by cmd_chat. */
#ifndef SOCKCTL_CMD_CHAT_H
#define SOCKCTL_CMD_CHAT_H

int chat_serve(int argc, char **argv);
int chat_connect(int argc, char **argv);

#endif
