package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/message"
)

func (c *cli) mailboxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "mailbox",
		Short:   "Work with local Maildir folders",
		Example: "  securemail mailbox list ~/Maildir",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.mailboxList(), c.mailboxImportMbox())
	return cmd
}

func (c *cli) mailboxList() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:   "list MAILDIR [--folder NAME] [--json]",
		Short: "List the messages of a Maildir folder (headers only)",
		Long: `list shows one line per message of a Maildir folder: its ID, flags, date,
sender and subject, read from the headers only (every string neutralised for
the terminal). --json prints one object per line.`,
		Example: "  securemail mailbox list ~/Maildir --folder Sent",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mb, err := mailbox.OpenMaildir(args[0], nil)
			if err != nil {
				return usageError("%v", err)
			}
			defer mb.Close()
			bw := bufio.NewWriter(c.stdout)
			defer bw.Flush()
			fields := []string{"From", "Subject", "Date"}
			for m, err := range mb.List(folder, &mailbox.ListOptions{HeaderFields: fields}) {
				if err != nil {
					c.v.warnf("%s", safe(err.Error()))
					continue
				}
				from := message.SafeLine(message.DecodeText(m.Header.Get("From")))
				subject := message.SafeLine(message.DecodeText(m.Header.Get("Subject")))
				date := message.SafeLine(m.Header.Get("Date"))
				if c.json {
					if err := writeJSONLine(bw, map[string]any{"id": m.ID, "folder": m.Folder, "flags": m.Flags.String(), "new": m.New, "size": m.Size, "from": from, "subject": subject, "date": date}); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(bw, "%s\t%s\t%s\t%s\t%s\n", safe(m.ID), m.Flags.String(), date, from, subject)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "INBOX", "the folder to list")
	return cmd
}

func (c *cli) mailboxImportMbox() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:     "import-mbox FILE MAILDIR [--folder NAME]",
		Short:   "Copy the messages of an mbox file into a Maildir folder",
		Example: "  securemail mailbox import-mbox old.mbox ~/Maildir --folder Archive",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usageError("%v", err)
			}
			defer f.Close()
			mb, err := mailbox.OpenMaildir(args[1], &mailbox.Options{Create: true})
			if err != nil {
				return usageError("%v", err)
			}
			defer mb.Close()
			if err := mb.CreateFolder(folder); err != nil {
				return usageError("%v", err)
			}
			n, err := mailbox.ImportMbox(bufio.NewReader(f), mb, folder)
			c.v.infof("imported %d messages into %s", n, safe(folder))
			if err != nil {
				return usageError("%v", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "INBOX", "the folder to deliver into")
	return cmd
}
